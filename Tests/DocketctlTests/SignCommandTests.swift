import Foundation
import StandardWebhooks
import Testing
import TestSupport

@testable import Docketctl

/// `docketctl sign`: both forms produce what `WebhookVerifier` accepts.
@Suite struct SignCommandTests {
    static let secret = TestSecret.webhook

    @Test func reproducesTheSpecVector() throws {
        let signer = try SignCommand.signer(Self.secret)
        let headers = signer.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers[2].value == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func jsonLinesVerifyAndCycleThroughDocumentIds() throws {
        let signer = try SignCommand.signer("\(Self.secret) whsec_c2Vjb25k")
        let now = Int(Date().timeIntervalSince1970)
        let lines = try SignCommand.requestLines(signer: signer, count: 5, documentIds: ["d1", "d2"], timestamp: now, idPrefix: "bench_x_")
        #expect(lines.count == 5)
        let verifier = WebhookVerifier(secrets: try WebhookSecret.list(Self.secret))
        var ids: Set<String> = []
        for (n, line) in lines.enumerated() {
            #expect(!line.contains("\n"))
            let request = try JSONDecoder().decode(SignCommand.SignedRequest.self, from: Data(line.utf8))
            #expect(request.headers["content-type"] == "application/json")
            let verified = try verifier.verify(
                id: request.headers["webhook-id"], timestamp: request.headers["webhook-timestamp"],
                signature: request.headers["webhook-signature"], body: Array(request.body.utf8), now: now)
            ids.insert(verified.id)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: String])
            #expect(body["documentId"] == (n % 2 == 0 ? "d1" : "d2"))
            #expect(body["documentStatus"] == "ACCEPTED" || body["documentStatus"] == "DECLINED")
            #expect(body["agentId"]?.isEmpty == false)
        }
        #expect(ids.count == 5)
    }

    @Test func parsesBothFormsAndRejectsMixtures() throws {
        _ = try SignCommand.parse(["--secret", Self.secret, "--body", "{}", "--id", "x", "--timestamp", "1"])
        _ = try SignCommand.parse(["--secret", Self.secret, "--count", "3", "--document-ids", "/tmp/ids", "--out", "/tmp/o"])
        #expect(throws: (any Error).self) { try SignCommand.parse(["--secret", Self.secret]) }
        #expect(throws: (any Error).self) { try SignCommand.parse(["--body", "{}", "--count", "3", "--document-ids", "f"]) }
        #expect(throws: (any Error).self) { try SignCommand.parse(["--count", "0", "--document-ids", "f"]) }
        #expect(throws: (any Error).self) { try SignCommand.parse(["--count", "2"]) }
        #expect(throws: (any Error).self) { try SignCommand.signer(nil) }
        #expect(throws: (any Error).self) { try SignCommand.signer("whsec_!!!") }
    }

    @Test func readsDocumentIdsSkippingBlankLines() throws {
        let path = NSTemporaryDirectory() + "docket-sign-ids-\(UUID().uuidString).txt"
        try "d1\n\n  d2  \r\nd3\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try SignCommand.readDocumentIds(path: path) == ["d1", "d2", "d3"])
    }
}
