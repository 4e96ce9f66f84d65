import Curl
import Foundation
import Logging
import Model
import ServiceLifecycle
import StandardWebhooks

/// Sends each review's signed verdict to its callback after the agent's delay, retrying failures with exponential
/// backoff like a real webhook sender. One task per pending delivery (no thread per review): many thousands are cheap.
final class VerdictDelivery: Service, Sendable {
    /// One review waiting for its verdict to be decided and delivered.
    struct Job: Sendable {
        var documentId: String
        var agentId: String
        var callbackUrl: String
        var delay: Duration
    }

    private let ledger: ReviewLedger
    private let curl: CurlClient
    private let signer: WebhookSigner
    private let configuration: SimulatorConfiguration
    private let logger: Logger
    private let jobs: AsyncStream<Job>
    private let submit: AsyncStream<Job>.Continuation

    init(ledger: ReviewLedger, curl: CurlClient, signer: WebhookSigner, configuration: SimulatorConfiguration, logger: Logger) {
        self.ledger = ledger
        self.curl = curl
        self.signer = signer
        self.configuration = configuration
        self.logger = logger
        (jobs, submit) = AsyncStream<Job>.makeStream()
    }

    /// Queues a delivery; it starts after `job.delay`.
    func schedule(_ job: Job) {
        submit.yield(job)
    }

    /// Runs deliveries until shutdown; pending ones are abandoned then (the simulator keeps no state across runs).
    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await job in self.jobs {
                    group.addTask { await self.deliver(job) }
                }
            }
        }
    }

    private func deliver(_ job: Job) async {
        do { try await Task.sleep(for: job.delay) } catch { return }
        let verdict: Verdict = Double.random(in: 0..<1) < configuration.acceptRate ? .accepted : .declined
        let webhookId = "msg_" + ReviewLedger.randomToken(24)
        ledger.decide(documentId: job.documentId, verdict: verdict, webhookId: webhookId)
        let body = Self.body(agentId: job.agentId, documentId: job.documentId, verdict: verdict)

        var attempt = 0
        var delivered = false
        while !Task.isCancelled, attempt < configuration.maxDeliveryAttempts {
            attempt += 1
            delivered = await post(body, webhookId: webhookId, job: job, attempt: attempt)
            if delivered { break }
            let delay = configuration.retryPolicy.delay(afterAttempt: attempt - 1, random: Double.random(in: 0.5...1))
            do { try await Task.sleep(for: delay) } catch { return }
        }
        if !delivered {
            logger.warning("Gave up delivering a verdict", metadata: ["document_id": "\(job.documentId)", "attempts": "\(attempt)"])
            return
        }
        // A duplicate is the same message again (same webhook-id and body), as real senders produce after a lost 2xx.
        if Double.random(in: 0..<1) < configuration.duplicateRate {
            do { try await Task.sleep(for: .milliseconds(Int.random(in: 20...200))) } catch { return }
            _ = await post(body, webhookId: webhookId, job: job, attempt: attempt + 1)
        }
    }

    /// One signed POST; true on a 2xx. Each attempt is signed with the current time, as Standard Webhooks senders do.
    private func post(_ body: [UInt8], webhookId: String, job: Job, attempt: Int) async -> Bool {
        let timestamp = Int(Date().timeIntervalSince1970)
        var headers = [CurlHeader(name: "Content-Type", value: "application/json")]
        for header in signer.headers(id: webhookId, timestamp: timestamp, body: body) {
            headers.append(CurlHeader(name: header.name, value: header.value))
        }
        let request = CurlRequest(
            method: "POST",
            url: job.callbackUrl,
            headers: headers,
            body: body,
            connectTimeout: configuration.deliveryTimeout,
            timeout: configuration.deliveryTimeout
        )
        let succeeded: Bool
        do {
            let response = try await curl.perform(request)
            succeeded = (200..<300).contains(response.status)
            if !succeeded {
                logger.debug(
                    "Callback refused a verdict",
                    metadata: ["document_id": "\(job.documentId)", "status": "\(response.status)", "attempt": "\(attempt)"]
                )
            }
        } catch {
            if Task.isCancelled { return false }
            succeeded = false
            logger.debug("Callback unreachable", metadata: ["document_id": "\(job.documentId)", "error": "\(error)", "attempt": "\(attempt)"])
        }
        ledger.recordDelivery(documentId: job.documentId, succeeded: succeeded)
        return succeeded
    }

    /// The verdict payload (docs/reference.md §4): `{"agentId", "documentId", "documentStatus"}`.
    static func body(agentId: String, documentId: String, verdict: Verdict) -> [UInt8] {
        let object = ["agentId": agentId, "documentId": documentId, "documentStatus": verdict.rawValue]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data)
    }
}
