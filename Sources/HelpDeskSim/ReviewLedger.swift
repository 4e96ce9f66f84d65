import Model
import Synchronization

/// Every review the simulated Help Desk holds, and the answers it gave per Idempotency-Key; safe to share.
final class ReviewLedger: Sendable {
    private struct State {
        var reviews: [SimulatedReview] = []
        var indexByDocumentId: [String: Int] = [:]
        /// Idempotency-Key → the documentId its first request created.
        var documentIdByKey: [String: String] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// Opens a review, unless a concurrent request with the same Idempotency-Key won the race: then that review is
    /// returned with `created` false and no second review starts.
    func open(
        documentUrl: String,
        callbackUrl: String,
        idempotencyKey: String?
    ) -> (review: SimulatedReview, created: Bool) {
        state.withLock { state in
            if let idempotencyKey, let documentId = state.documentIdByKey[idempotencyKey],
                let index = state.indexByDocumentId[documentId]
            {
                state.reviews[index].requests += 1
                return (state.reviews[index], false)
            }
            var documentId = Self.newDocumentId()
            while state.indexByDocumentId[documentId] != nil { documentId = Self.newDocumentId() }
            let review = SimulatedReview(
                documentId: documentId,
                documentUrl: documentUrl,
                agentId: "agent-\(Int.random(in: 1...24))",
                documentStatus: ReviewStatus.pendingReview.rawValue,
                delivered: false,
                deliveryAttempts: 0,
                requests: 1,
                webhookId: nil,
                callbackUrl: callbackUrl
            )
            state.indexByDocumentId[documentId] = state.reviews.count
            state.reviews.append(review)
            if let idempotencyKey { state.documentIdByKey[idempotencyKey] = documentId }
            return (review, true)
        }
    }

    /// Records the agent's decision and the webhook id its deliveries will carry.
    func decide(documentId: String, verdict: Verdict, webhookId: String) {
        update(documentId) { review in
            review.documentStatus = verdict.rawValue
            review.webhookId = webhookId
        }
    }

    /// Counts one webhook POST; `delivered` sticks once any POST got a 2xx.
    func recordDelivery(documentId: String, succeeded: Bool) {
        update(documentId) { review in
            review.deliveryAttempts += 1
            if succeeded { review.delivered = true }
        }
    }

    /// Every review, oldest first.
    func snapshot() -> [SimulatedReview] {
        state.withLock { $0.reviews }
    }

    private func update(_ documentId: String, _ body: (inout SimulatedReview) -> Void) {
        state.withLock { state in
            if let index = state.indexByDocumentId[documentId] { body(&state.reviews[index]) }
        }
    }

    static func newDocumentId() -> String {
        "doc_" + randomToken(24)
    }

    /// `count` random lowercase letters and digits.
    static func randomToken(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
