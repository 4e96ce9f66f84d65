import Foundation
import Synchronization
import TestSupport

@testable import Gateway

/// Signed webhooks sent from plain threads over raw keep-alive sockets, with every byte that came back accounted
/// for: a request either got a complete answer, or its connection ended with no byte of an answer at all.
enum RawLoad {
    /// What one request got.
    enum Result: Sendable {
        /// A complete answer, and when it arrived.
        case answered(id: String, status: Int, retryAfter: String?, at: ContinuousClock.Instant)
        /// Connecting failed (nothing listens any more).
        case refused
        /// The connection ended before the answer; `partialBytes` of one had arrived (must be 0).
        case dropped(partialBytes: Int)
    }

    /// Runs `lanes` threads that each send signed webhooks back to back until `duration` passes; a lane reconnects
    /// after its connection ends, and stops early when connecting is refused while `stopWhenRefused` is set.
    static func run(
        port: Int, lanes: Int, duration: Duration, stopWhenRefused: Bool = false, tag: String = "load"
    ) async -> [Result] {
        await withCheckedContinuation { continuation in
            let results = Mutex<[Result]>([])
            let group = DispatchGroup()
            let deadline = ContinuousClock.now + duration
            for lane in 0..<lanes {
                group.enter()
                Thread.detachNewThread {
                    let mine = runLane(port: port, lane: lane, deadline: deadline, stopWhenRefused: stopWhenRefused, tag: tag)
                    results.withLock { $0 += mine }
                    group.leave()
                }
            }
            group.notify(queue: .global()) {
                continuation.resume(returning: results.withLock { $0 })
            }
        }
    }

    private static func runLane(
        port: Int, lane: Int, deadline: ContinuousClock.Instant, stopWhenRefused: Bool, tag: String
    ) -> [Result] {
        var results: [Result] = []
        var connection: LoopbackConnection?
        var sequence = 0
        while ContinuousClock.now < deadline {
            guard let open = connection ?? (try? LoopbackConnection(port: port, timeout: .seconds(5))) else {
                results.append(.refused)
                if stopWhenRefused { break }
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            connection = open
            sequence += 1
            let id = "\(tag)-\(lane)-\(sequence)-\(UUID().uuidString.prefix(8))"
            guard let request = try? GatewayPipelineTests.signedWebhook(id: id), open.send(request),
                  let reply = open.nextReply()
            else {
                results.append(.dropped(partialBytes: open.unconsumedBytes))
                connection = nil
                continue
            }
            results.append(.answered(id: id, status: reply.status, retryAfter: reply.header("retry-after"), at: .now))
            if reply.header("connection") == "close" { connection = nil }
        }
        return results
    }
}

extension [RawLoad.Result] {
    /// Ids that got a 202.
    var acceptedIds: [String] {
        compactMap { if case .answered(let id, 202, _, _) = $0 { id } else { nil } }
    }

    /// Ids that got a 503 (their senders would retry).
    var unavailableIds: [String] {
        compactMap { if case .answered(let id, 503, _, _) = $0 { id } else { nil } }
    }

    /// Statuses of complete answers.
    var statuses: [Int] {
        compactMap { if case .answered(_, let status, _, _) = $0 { status } else { nil } }
    }

    /// Answers that are neither 202 nor a 503 with `Retry-After`.
    var unexpectedAnswers: [RawLoad.Result] {
        filter {
            switch $0 {
            case .answered(_, 202, _, _): false
            case .answered(_, 503, let retryAfter, _): retryAfter == nil
            case .answered: true
            case .refused, .dropped: false
            }
        }
    }

    /// When the first 202 after `instant` arrived.
    func firstAccepted(after instant: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        compactMap { if case .answered(_, 202, _, let at) = $0, at > instant { at } else { nil } }.min()
    }

    /// Requests whose connection ended with part of an answer received.
    var halfAnswered: [RawLoad.Result] {
        filter { if case .dropped(let partial) = $0 { partial > 0 } else { false } }
    }
}
