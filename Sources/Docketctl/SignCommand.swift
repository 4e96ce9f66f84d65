import ArgumentParser
import Foundation
import Runtime
import StandardWebhooks

/// `docketctl sign` (docs/reference.md §1): prints Standard Webhooks headers for one body, or writes N signed verdict
/// requests as JSON lines for load tools.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a webhook body, or write N signed verdict requests as JSON lines.",
        usage: """
            docketctl sign --secret S --body JSON [--id ID] [--timestamp T]
            docketctl sign --secret S --count N --document-ids FILE [--out FILE]
            """
    )

    // No default shown in --help: the value is a secret.
    @Option(help: ArgumentHelp("Signing secret whsec_... (env DOCKET_WEBHOOK_SECRET; with several, the first signs).", valueName: "secret"))
    var secret: String?

    @Option(help: ArgumentHelp("The raw body to sign, exactly as it will be sent.", valueName: "json"))
    var body: String?

    @Option(help: ArgumentHelp("webhook-id to sign (default: a random msg_ id).", valueName: "id"))
    var id: String?

    @Option(help: ArgumentHelp("webhook-timestamp in Unix seconds (default: now).", valueName: "seconds"))
    var timestamp: Int?

    @Option(help: ArgumentHelp("How many signed verdict requests to write.", valueName: "n"))
    var count: Int?

    @Option(name: .customLong("document-ids"), help: ArgumentHelp("File of document ids, one a line, used in turn.", valueName: "file"))
    var documentIds: String?

    @Option(help: ArgumentHelp("Write the JSON lines here instead of standard output.", valueName: "file"))
    var out: String?

    func validate() throws {
        if body != nil {
            guard count == nil, documentIds == nil, out == nil else {
                throw ValidationError("use either --body (one signature) or --count with --document-ids (JSON lines), not both")
            }
        } else {
            guard let count, documentIds != nil else {
                throw ValidationError("give --body JSON, or --count N with --document-ids FILE")
            }
            guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
            guard id == nil else { throw ValidationError("--id applies to --body only; --count makes unique ids") }
        }
    }

    func run() async throws {
        let signer = try Self.signer(secret ?? DocketEnvironment.optionalString("DOCKET_WEBHOOK_SECRET"))
        let now = timestamp ?? Int(Date().timeIntervalSince1970)
        if let body {
            let webhookId = id ?? Self.randomId(prefix: "msg_")
            for header in signer.headers(id: webhookId, timestamp: now, body: Array(body.utf8)) {
                print("\(header.name): \(header.value)")
            }
            return
        }
        guard let count, let documentIds else { return }
        let ids = try Self.readDocumentIds(path: documentIds)
        let lines = try Self.requestLines(signer: signer, count: count, documentIds: ids, timestamp: now,
                                          idPrefix: Self.randomId(prefix: "bench_") + "_")
        var text = lines.joined(separator: "\n")
        text += "\n"
        if let out {
            do {
                try text.write(toFile: out, atomically: true, encoding: .utf8)
            } catch {
                throw ConfigurationError("cannot write --out \(out): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// The signer for the first of `secretText`'s secrets; the error says what is missing or malformed.
    static func signer(_ secretText: String?) throws -> WebhookSigner {
        do {
            return WebhookSigner(secret: try WebhookSecret.configured(secretText, source: "--secret (or DOCKET_WEBHOOK_SECRET)")[0])
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Non-blank lines of `path`, trimmed.
    static func readDocumentIds(path: String) throws -> [String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read --document-ids \(path): \(error.localizedDescription)")
        }
        let ids = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !ids.isEmpty else { throw ValidationError("--document-ids \(path) holds no document id") }
        return ids
    }

    /// One signed request as load tools read it: the headers to send and the body, verbatim.
    struct SignedRequest: Codable, Equatable {
        var headers: [String: String]
        var body: String
    }

    /// `count` signed verdicts (ACCEPTED and DECLINED in turn) for `documentIds` in turn, ids `<idPrefix><n>`,
    /// each as one JSON line `{"body": "...", "headers": {...}}`.
    static func requestLines(
        signer: WebhookSigner, count: Int, documentIds: [String], timestamp: Int, idPrefix: String
    ) throws -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines: [String] = []
        lines.reserveCapacity(count)
        for n in 0..<count {
            let documentId = documentIds[n % documentIds.count]
            let verdict = VerdictBody(agentId: "agent-\(n % 16)", documentId: documentId,
                                      documentStatus: n % 2 == 0 ? "ACCEPTED" : "DECLINED")
            let body = String(decoding: try encoder.encode(verdict), as: UTF8.self)
            var headers = ["content-type": "application/json"]
            for header in signer.headers(id: "\(idPrefix)\(n)", timestamp: timestamp, body: Array(body.utf8)) {
                headers[header.name] = header.value
            }
            lines.append(String(decoding: try encoder.encode(SignedRequest(headers: headers, body: body)), as: UTF8.self))
        }
        return lines
    }

    private struct VerdictBody: Encodable {
        var agentId: String
        var documentId: String
        var documentStatus: String
    }

    static func randomId(prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
    }
}
