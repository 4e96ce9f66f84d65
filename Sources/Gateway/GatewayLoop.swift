import Logging
import NIOCore
import Queue
import StandardWebhooks

/// What every connection on one event loop shares: the loop's queue router (its Redis connections), the keyed verifier,
/// the encoded enqueue commands and the request-id counter. Confined to its loop, so none of it is locked.
final class GatewayLoop {
    let eventLoop: any EventLoop
    let queue: QueueRouter
    /// Where enqueues go: `queue`, unless a test put a fake here.
    var sender: any EnqueueSender
    let intake: WebhookIntake
    /// The enqueue command of each partition (its keys pre-encoded), and how a webhook id picks one.
    let enqueues: [EnqueueCommand]
    let partitioning: Partitioning
    /// The WAIT an accepted webhook needs before its 202, when replicas must hold it.
    let replicaWait: ReplicaWait?
    let proxies: TrustedProxies
    let process: GatewayProcessState
    let logger: Logger
    var requestIDs: RequestIDGenerator

    init(
        index: Int, eventLoop: any EventLoop, configuration: GatewayConfiguration, process: GatewayProcessState,
        clusterMap: ClusterMapWatcher?, logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.process = process
        self.logger = logger
        self.proxies = configuration.trustedProxies
        var link = configuration.queue
        link.maxPending = configuration.maxPendingPerLoop
        link.pingInterval = configuration.readinessInterval
        if let wait = configuration.replicaWait {
            // A WAIT holds the connection up to its timeout: replies behind it may take that much longer.
            link.commandTimeout += .milliseconds(wait.timeoutMilliseconds)
        }
        partitioning = Partitioning(prefix: configuration.redisPrefix, count: configuration.partitions)
        queue = QueueRouter(configuration: link, partitioning: partitioning, watcher: clusterMap, eventLoop: eventLoop, logger: logger)
        sender = queue
        replicaWait = configuration.replicaWait
        intake = WebhookIntake(
            verifier: KeyedWebhookVerifier(
                WebhookVerifier(secrets: configuration.secrets, tolerance: configuration.signatureToleranceSeconds)),
            maxBodyBytes: configuration.maxBodyBytes)
        enqueues = partitioning.allKeys.map { keys in
            EnqueueCommand(keys: keys, dedupeTTLSeconds: configuration.dedupeTTLSeconds, maxBacklog: configuration.maxBacklog)
        }
        requestIDs = RequestIDGenerator(
            processPrefix: process.requestIDPrefix, loopIndex: index, loopCount: configuration.eventLoopThreads)
    }
}
