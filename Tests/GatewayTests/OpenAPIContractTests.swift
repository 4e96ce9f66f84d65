import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import Gateway

/// The server's answers against ops/openapi.yaml: every status each route returns, with its media type, is declared,
/// and every status declared for the webhook route is one the server really returns.
@Suite struct OpenAPIContractTests {
    typealias H = GatewayHarness

    /// ops/openapi.yaml, found from this file (Tests/GatewayTests/ → package root).
    static var documentURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ops/openapi.yaml")
    }

    @Test func documentDeclaresEveryAnswerTheServerGives() async throws {
        let spec = try MiniYAML(text: String(contentsOf: Self.documentURL, encoding: .utf8))
        #expect(spec.scalar(["openapi"])?.hasPrefix("3.1") == true)

        let harness = try H("openapi") {
            $0.maxBodyBytes = 300
            $0.maxBacklog = 1
        }
        defer { harness.cleanUp() }
        let big = String(repeating: "x", count: 400)
        // (path in the document, method in the document, response)
        let observed: [(String, String, GatewayTestResponse)] = try await harness.withLiveGateway { client in
            var out: [(String, String, GatewayTestResponse)] = []
            func post(_ body: String, _ headers: HTTPFields) async throws {
                out.append(("/document/update", "post", try await H.post(client, body: body, headers: headers)))
            }
            try await post(H.validBody, try H.signedHeaders(id: H.uniqueId(), body: H.validBody))             // 202
            try await post("{}", try H.signedHeaders(id: H.uniqueId(), body: "{}"))                           // 400
            try await post(H.validBody, HTTPFields([HTTPField(name: .contentType, value: "application/json")])) // 401
            try await post(big, HTTPFields([HTTPField(name: .contentType, value: "application/json")]))        // 413
            try await post(H.validBody, HTTPFields([HTTPField(name: .contentType, value: "text/plain")]))      // 415
            try await post(H.validBody, try H.signedHeaders(id: H.uniqueId(), body: H.validBody))             // 503 (backlog 1)
            for method in [HTTPRequest.Method.get, .put, .patch, .delete] {
                out.append(("/document/update", method.rawValue.lowercased(), try await client.execute(uri: "/document/update", method: method)))
            }
            for path in ["/livez", "/healthz", "/readyz", "/metrics"] {
                try await waitUntil(timeout: .seconds(5)) { try await client.execute(uri: "/readyz", method: .get).status == .ok }
                out.append((path, "get", try await client.execute(uri: path, method: .get)))
            }
            out.append(("/livez", "post", try await client.execute(uri: "/livez", method: .post)))
            out.append(("/{unknown}", "get", try await client.execute(uri: "/nope", method: .get)))
            return out
        }

        var seenForWebhook: Set<String> = []
        for (path, method, response) in observed {
            let code = String(response.status.code)
            if path == "/document/update" && method == "post" { seenForWebhook.insert(code) }
            let declared = try #require(
                spec.response(path: path, method: method, status: code),
                "ops/openapi.yaml does not declare \(code) for \(method.uppercased()) \(path)")
            if let contentType = response.headers[.contentType] {
                let media = String(contentType.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces)
                #expect(spec.hasKey(declared + ["content", media]),
                        "\(method.uppercased()) \(path) \(code) answers \(media), not declared in ops/openapi.yaml")
            }
            for header in ["Retry-After", "Allow"] where response.headers[HTTPField.Name(header)!] != nil {
                #expect(spec.hasKey(declared + ["headers", header]), "\(header) on \(code) \(path) not declared")
            }
        }
        let declaredForWebhook = spec.children(["paths", "/document/update", "post", "responses"])
        #expect(Set(declaredForWebhook) == seenForWebhook, "declared \(declaredForWebhook.sorted()), observed \(seenForWebhook.sorted())")
    }
}

/// Just enough YAML for an OpenAPI document written in block style: nested mappings, scalars, `|` blocks skipped,
/// list items ignored. Keys are addressed by path, e.g. ["paths", "/livez", "get"].
struct MiniYAML {
    private var scalars: [[String]: String] = [:]
    private var keys: Set<[String]> = []
    private var order: [[String]] = []

    init(text: String) throws {
        var stack: [(indent: Int, key: String)] = []
        var skipDeeperThan: Int?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty || content.hasPrefix("#") { continue }
            let indent = line.prefix { $0 == " " }.count
            if let limit = skipDeeperThan {
                if indent > limit { continue }
                skipDeeperThan = nil
            }
            while let last = stack.last, last.indent >= indent { stack.removeLast() }
            if content.hasPrefix("-") {
                // List items (parameters, required, servers) are not needed: skip them with their children.
                skipDeeperThan = indent
                continue
            }
            guard let colon = content.range(of: ":") else { continue }
            var key = String(content[..<colon.lowerBound])
            if key.count >= 2, (key.hasPrefix("'") && key.hasSuffix("'")) || (key.hasPrefix("\"") && key.hasSuffix("\"")) {
                key = String(key.dropFirst().dropLast())
            }
            var value = String(content[colon.upperBound...]).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, (value.hasPrefix("'") && value.hasSuffix("'")) || (value.hasPrefix("\"") && value.hasSuffix("\"")) {
                value = String(value.dropFirst().dropLast())
            }
            let path = stack.map(\.key) + [key]
            keys.insert(path)
            order.append(path)
            if value == "|" || value == ">" {
                skipDeeperThan = indent
            } else if !value.isEmpty {
                scalars[path] = value
            }
            stack.append((indent: indent, key: key))
        }
    }

    func hasKey(_ path: [String]) -> Bool { keys.contains(path) }

    func scalar(_ path: [String]) -> String? { scalars[path] }

    /// Direct child keys, in document order.
    func children(_ path: [String]) -> [String] {
        order.filter { $0.count == path.count + 1 && Array($0.prefix(path.count)) == path }.map { $0[path.count] }
    }

    /// The key path of a declared response, following one `$ref: '#/components/responses/X'`.
    func response(path: String, method: String, status: String) -> [String]? {
        let direct = ["paths", path, method, "responses", status]
        guard hasKey(direct) else { return nil }
        if let ref = scalar(direct + ["$ref"]), ref.hasPrefix("#/") {
            let target = ref.dropFirst(2).split(separator: "/").map(String.init)
            return hasKey(target) ? target : nil
        }
        return direct
    }
}
