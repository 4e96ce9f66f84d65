import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Gateway

/// Many requests at once: pipelined Redis round trips must neither lose nor duplicate anything.
@Suite struct ConcurrencyTests {
    typealias H = GatewayHarness

    /// Sends `requests` over `connections` keep-alive connections at once; returns the statuses with the ids.
    static func blast(
        port: Int, connections: Int, requests: [(id: String, body: String)]
    ) async throws -> [(id: String, status: HTTPResponse.Status)] {
        try await withThrowingTaskGroup(of: [(id: String, status: HTTPResponse.Status)].self) { group in
            for lane in 0..<connections {
                let mine = stride(from: lane, to: requests.count, by: connections).map { requests[$0] }
                guard !mine.isEmpty else { continue }
                group.addTask {
                    try await TestClient.withClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(30))) { client in
                        try await withThrowingTaskGroup(of: (id: String, status: HTTPResponse.Status).self) { inner in
                            for request in mine {
                                inner.addTask {
                                    var headers = try H.signedHeaders(id: request.id, body: request.body)
                                    headers[.connection] = "keep-alive"
                                    let response = try await client.execute(TestClient.Request(
                                        "/document/update", method: .post, authority: "localhost", headers: headers,
                                        body: ByteBuffer(string: request.body)))
                                    return (id: request.id, status: response.status)
                                }
                            }
                            var out: [(id: String, status: HTTPResponse.Status)] = []
                            for try await result in inner { out.append(result) }
                            return out
                        }
                    }
                }
            }
            var all: [(id: String, status: HTTPResponse.Status)] = []
            for try await part in group { all += part }
            return all
        }
    }

    @Test func thousandConcurrentDistinctWebhooksMakeThousandEntries() async throws {
        let harness = try H("thousand")
        defer { harness.cleanUp() }
        let requests = (0..<1000).map { n in
            (id: H.uniqueId("k\(n)"), body: #"{"agentId":"a\#(n)","documentId":"d\#(n)","documentStatus":"ACCEPTED"}"#)
        }
        let results = try await harness.withLiveGateway { client in
            try await Self.blast(port: try #require(client.port), connections: 50, requests: requests)
        }
        #expect(results.count == 1000)
        #expect(results.allSatisfy { $0.status == .accepted })
        let ids = try harness.streamWebhookIds()
        #expect(ids.count == 1000)
        #expect(Set(ids) == Set(requests.map(\.id)))
    }

    @Test func fiftyConcurrentCopiesOfOneIdMakeOneEntry() async throws {
        let harness = try H("copies")
        defer { harness.cleanUp() }
        let id = H.uniqueId()
        let requests = (0..<50).map { _ in (id: id, body: H.validBody) }
        let results = try await harness.withLiveGateway { client in
            try await Self.blast(port: try #require(client.port), connections: 50, requests: requests)
        }
        #expect(results.count == 50)
        #expect(results.allSatisfy { $0.status == .accepted })
        #expect(try harness.streamWebhookIds() == [id])
    }
}
