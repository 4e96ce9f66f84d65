import Foundation
import Hummingbird
import Model

/// The simulated Help Desk's HTTP API (docs/reference.md §11): `POST /document`, `GET /documents`, `GET /livez`.
struct HelpDeskRoutes: Sendable {
    /// Largest request body read; a document request is a few hundred bytes.
    static let maxBodyBytes = 65_536

    let ledger: ReviewLedger
    let delivery: VerdictDelivery
    let configuration: SimulatorConfiguration

    func add(to router: Router<BasicRequestContext>) {
        router.post("/document") { request, _ in
            try await self.requestReview(request)
        }
        router.get("/documents") { _, _ in
            Self.json(.ok, self.ledger.snapshot())
        }
        router.get("/livez") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        }
    }

    /// Validates like a real API, replays an Idempotency-Key's first answer, otherwise opens a review and schedules
    /// its verdict. `--fail-rate` failures happen before anything is recorded, as an overloaded server's would.
    func requestReview(_ request: Request) async throws -> Response {
        if configuration.failRate > 0, Double.random(in: 0..<1) < configuration.failRate {
            return Self.error(.internalServerError, "simulated failure (--fail-rate)")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            return Self.error(.contentTooLarge, "request body larger than \(Self.maxBodyBytes) bytes")
        }
        let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        guard let object else {
            return Self.error(.badRequest, "body must be a JSON object with documentUrl")
        }
        guard let documentUrl = object["documentUrl"] as? String else {
            return Self.error(.badRequest, "documentUrl is required and must be a string")
        }
        if let problem = DocumentURL.validate(documentUrl) {
            return Self.error(.badRequest, "documentUrl \(problem)")
        }
        guard let callbackUrl = Self.header("x-callback-url", in: request) else {
            return Self.error(.badRequest, "the X-Callback-Url header is required")
        }
        if let problem = DocumentURL.validate(callbackUrl) {
            return Self.error(.badRequest, "X-Callback-Url \(problem)")
        }
        let idempotencyKey = Self.header("idempotency-key", in: request)
        let (review, created) = ledger.open(documentUrl: documentUrl, callbackUrl: callbackUrl, idempotencyKey: idempotencyKey)
        if created {
            delivery.schedule(
                VerdictDelivery.Job(
                    documentId: review.documentId,
                    agentId: review.agentId,
                    callbackUrl: callbackUrl,
                    delay: configuration.delay.random()
                )
            )
        }
        return Self.json(.created, ReviewAccepted(agentId: review.agentId, documentId: review.documentId, status: ReviewStatus.pendingReview.rawValue))
    }

    /// The `201` body.
    struct ReviewAccepted: Encodable {
        var agentId: String
        var documentId: String
        var status: String
    }

    private struct ErrorBody: Encodable {
        var error: String
    }

    private static func header(_ lowercasedName: String, in request: Request) -> String? {
        guard let value = request.headers.first(where: { $0.name.canonicalName == lowercasedName })?.value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, ErrorBody(error: message))
    }

    private static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
