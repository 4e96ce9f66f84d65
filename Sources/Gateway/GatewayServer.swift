import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Queue
import Runtime
import ServiceLifecycle

/// The gateway's HTTP server as a service: SwiftNIO's HTTP/1.1 decoder on `eventLoopThreads` event loops, each loop
/// with its own Redis connection, so a webhook is read, verified, enqueued and answered without leaving its thread
/// (docs/architecture.md, "Each process's job").
///
/// Graceful shutdown: stop accepting, `/readyz` fails, every connection finishes the request it is in (its answer is
/// written) and closes, then the Redis connections close, then the event loops stop.
final class GatewayServer: Service, Sendable {
    let configuration: GatewayConfiguration
    let process: GatewayProcessState
    private let logger: Logger
    private let onListening: @Sendable (Int) -> Void

    /// `onListening` is told the bound port (useful with port 0).
    init(
        configuration: GatewayConfiguration,
        logger: Logger,
        shutdown: ShutdownFlag = ShutdownFlag(),
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
        // Installs the Prometheus backend before any metric is created, so none binds to the no-op default.
        let registry = MetricsBootstrap.bootstrap()
        process = GatewayProcessState(
            metrics: GatewayMetrics(), shutdown: shutdown, exposition: { MetricsBootstrap.exposition(of: registry) })
    }

    /// The process's server (`DocketProcess.main`): its logger, metrics registry and shutdown flag.
    convenience init(configuration: GatewayConfiguration, context: ProcessContext) {
        self.init(configuration: configuration, logger: context.logger, shutdown: context.shutdown)
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        // On a cluster every loop routes by one shared slot map, kept fresh by a task of its own.
        let clusterMap = configuration.queue.endpoint.isCluster ? ClusterMapWatcher(endpoint: configuration.queue.endpoint, logger: logger) : nil
        let mapTask = clusterMap.map { watcher in Task { await watcher.run() } }
        defer {
            clusterMap?.stop()
            mapTask?.cancel()
        }
        let loops = try await makeLoops(on: group, clusterMap: clusterMap)
        let gauge = try await startBacklogGauge(on: loops[0])
        // Listen once Redis is reachable, so the first webhooks after a start are not refused while the links connect;
        // with Redis down, start anyway after the connect timeout (answering 503, /readyz failing) and keep trying.
        let linksDeadline = ContinuousClock.now + configuration.queue.connectTimeout + .milliseconds(clusterMap == nil ? 500 : 1_500)
        while process.readiness != .ready && ContinuousClock.now < linksDeadline {
            guard (try? await Task.sleep(for: .milliseconds(10))) != nil else { break }
        }
        let tracker = ConnectionTracker()

        let server: any Channel
        do {
            server = try await bootstrap(group: group, loops: loops, tracker: tracker)
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            await close(loops: loops, gauge: gauge)
            try? await group.shutdownGracefully()
            throw GatewayStartError(address: "\(configuration.host):\(configuration.port)", underlying: error)
        }
        let port = server.localAddress?.port ?? configuration.port
        logger.info("docket-gateway listening", metadata: ["address": "\(configuration.host):\(port)"])
        onListening(port)

        let shutdown = process.shutdown
        let gracePeriod = TimeAmount(configuration.shutdownGracePeriod)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await server.closeFuture.get()
            } onGracefulShutdown: {
                shutdown.begin()
                server.close(promise: nil)
            }
            shutdown.begin()
            logger.info("Stopped accepting connections; finishing in-flight requests", metadata: ["connections": "\(tracker.count)"])
            await tracker.quiesce(on: group.any(), gracePeriod: gracePeriod)
        } onCancel: {
            server.close(promise: nil)
            tracker.closeAll()
        }
        await close(loops: loops, gauge: gauge)
        try await group.shutdownGracefully()
        logger.info("docket-gateway stopped")
    }

    private func makeLoops(on group: MultiThreadedEventLoopGroup, clusterMap: ClusterMapWatcher?) async throws -> [NIOLoopBound<GatewayLoop>] {
        var loops: [NIOLoopBound<GatewayLoop>] = []
        for (index, eventLoop) in group.makeIterator().enumerated() {
            let bound = try await eventLoop.submit { [configuration, process, logger] in
                var logger = logger
                logger[metadataKey: "loop"] = "\(index)"
                let loop = GatewayLoop(
                    index: index, eventLoop: eventLoop, configuration: configuration, process: process, clusterMap: clusterMap,
                    logger: logger)
                process.register(loop.queue.status)
                loop.queue.start()
                return NIOLoopBound(loop, eventLoop: eventLoop)
            }.get()
            loops.append(bound)
        }
        return loops
    }

    private func startBacklogGauge(on loop: NIOLoopBound<GatewayLoop>) async throws -> NIOLoopBound<BacklogGauge> {
        try await loop.eventLoop.submit { [configuration] in
            let gauge = BacklogGauge(
                loop: loop.value, partitions: Partitioning(prefix: configuration.redisPrefix, count: configuration.partitions).allKeys,
                interval: configuration.readinessInterval)
            gauge.start()
            return NIOLoopBound(gauge, eventLoop: loop.eventLoop)
        }.get()
    }

    private func bootstrap(
        group: MultiThreadedEventLoopGroup, loops: [NIOLoopBound<GatewayLoop>], tracker: ConnectionTracker
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let loop = loops.first(where: { $0.eventLoop === channel.eventLoop }) else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    tracker.add(channel)
                    try GatewayHTTPHandler.addHandlers(to: channel.pipeline.syncOperations, loop: loop.value)
                }
            }
    }

    /// Redis last: nothing is left that could still need it.
    private func close(loops: [NIOLoopBound<GatewayLoop>], gauge: NIOLoopBound<BacklogGauge>) async {
        try? await gauge.eventLoop.submit { gauge.value.stop() }.get()
        for loop in loops {
            try? await loop.eventLoop.flatSubmit { loop.value.queue.close() }.get()
        }
    }
}

/// The listening socket could not be opened.
struct GatewayStartError: Error, CustomStringConvertible {
    var address: String
    var underlying: any Error
    var description: String { "cannot listen on \(address): \(underlying)" }
}
