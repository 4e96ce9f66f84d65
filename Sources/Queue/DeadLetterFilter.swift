import Model
public import Redis

/// Which dead letters an operator means: every condition given must hold (docs/reference.md §1 `dead`, §13 console).
public struct DeadLetterFilter: Sendable, Hashable {
    /// Text the failure reason must contain (case-sensitive, as `docketctl dead replay --reason`).
    public var reason: String?
    /// The verdict's documentId, exactly; a body that is not a verdict has none and never matches.
    public var documentId: String?
    /// Failed at or after this Unix time in milliseconds.
    public var failedSinceMilliseconds: Int?

    public init(reason: String? = nil, documentId: String? = nil, failedSinceMilliseconds: Int? = nil) {
        self.reason = reason.flatMap { $0.isEmpty ? nil : $0 }
        self.documentId = documentId.flatMap { $0.isEmpty ? nil : $0 }
        self.failedSinceMilliseconds = failedSinceMilliseconds
    }

    /// True when no condition is set: everything matches.
    public var isEmpty: Bool { reason == nil && documentId == nil && failedSinceMilliseconds == nil }

    public func matches(_ letter: DeadLetter) -> Bool {
        if let reason, !letter.error.contains(reason) { return false }
        if let failedSinceMilliseconds, letter.failedAtMilliseconds < failedSinceMilliseconds { return false }
        if let documentId, letter.documentId != documentId { return false }
        return true
    }
}

/// One page of dead letters, newest first.
public struct DeadLetterPage: Sendable, Equatable {
    public var letters: [DeadLetter]
    /// Where the next (older) page starts, exclusive; nil on the last page.
    public var nextCursor: String?

    public init(letters: [DeadLetter], nextCursor: String?) {
        self.letters = letters
        self.nextCursor = nextCursor
    }
}

extension DeadLetter {
    /// The verdict's documentId when the body is a valid verdict.
    public var documentId: String? {
        body.flatMap { try? ReviewVerdict.decode($0) }?.documentId
    }
}

extension EventQueue {
    /// Dead letters matching `filter`, newest first: at most `limit`, starting below `cursor` (an entry id, exclusive;
    /// nil for the newest). Reads the stream in chunks, so a selective filter over a long stream stays bounded in memory.
    public func deadLetterPage(
        _ connection: RedisConnection, filter: DeadLetterFilter, before cursor: String?, limit: Int, chunk: Int = 500
    ) throws -> DeadLetterPage {
        var letters: [DeadLetter] = []
        var end = cursor.map { "(" + $0 } ?? "+"
        while true {
            let reply = try connection.send(
                "XREVRANGE", RedisArgument(keys.dead), RedisArgument(end), "-", "COUNT", RedisArgument(chunk))
            let entries = try StreamEntry.decodeList(reply)
            for entry in entries {
                let letter = DeadLetter(entry: entry)
                guard filter.matches(letter) else { continue }
                if letters.count == limit { return DeadLetterPage(letters: letters, nextCursor: letters.last?.id) }
                letters.append(letter)
            }
            guard entries.count == chunk, let last = entries.last else {
                return DeadLetterPage(letters: letters, nextCursor: nil)
            }
            end = "(" + last.id
        }
    }

    /// Every dead letter matching `filter`, oldest first.
    public func deadLetters(_ connection: RedisConnection, matching filter: DeadLetterFilter) throws -> [DeadLetter] {
        try allDeadLetters(connection).filter(filter.matches)
    }
}
