import Foundation
import Logging
import Synchronization
import Testing
@testable import Runtime

final class CapturedLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite struct LogHandlerTests {
    @Test func jsonLineParsesWithEscapedMessageAndFlatMetadata() throws {
        let captured = CapturedLines()
        var logger = Logger(label: "docket-test") { label in
            JSONLogHandler(label: label, logLevel: .debug, metadataProvider: nil, sink: captured.append)
        }
        logger[metadataKey: "consumer"] = "worker-1"
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} é 🚀"
        logger.info(
            "\(tricky)",
            metadata: [
                "count": .stringConvertible(3),
                "nested": ["inner": "v", "list": ["a", "b"]],
                "msg": "collides",
            ]
        )
        logger.trace("below the level")

        let lines = captured.all
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().contains("\n") == false, "one event, one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == tricky)
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "docket-test")
        #expect(object["consumer"] as? String == "worker-1")
        #expect(object["count"] as? String == "3")
        #expect(object["nested.inner"] as? String == "v")
        #expect(object["nested.list"] as? String == "[a, b]")
        #expect(object["meta.msg"] as? String == "collides")
        let timestamp = try #require(object["ts"] as? String)
        #expect(timestamp.count == 24)
        #expect(timestamp.hasSuffix("Z"))
    }

    @Test func timestampIsISO8601WithMilliseconds() {
        #expect(LogLineFormatter.timestamp(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(LogLineFormatter.timestamp(seconds: 1_746_100_800, milliseconds: 123) == "2025-05-01T12:00:00.123Z")
    }

    @Test func textLineIsCompactAndOneLine() throws {
        let captured = CapturedLines()
        let logger = Logger(label: "docket-test") { label in
            TextLogHandler(label: label, logLevel: .info, metadataProvider: nil, sink: captured.append)
        }
        logger.warning("Redis down\nretrying", metadata: ["redis.url": "redis://127.0.0.1:6379/0", "reason": "connection refused"])
        let line = try #require(captured.all.first)
        #expect(line.hasSuffix("\n"))
        let body = line.dropLast()
        #expect(!body.contains("\n"))
        #expect(body.contains(" warning docket-test: Redis down\\nretrying reason=\"connection refused\" redis.url=redis://127.0.0.1:6379/0"))
    }
}
