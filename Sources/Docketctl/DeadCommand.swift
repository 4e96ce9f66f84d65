import ArgumentParser
import Foundation
import Queue
import Runtime

/// `docketctl dead ...`: inspect, replay and purge dead letters (docs/reference.md §1, §8).
struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "Inspect, replay and purge dead letters.",
        discussion: """
            Dead letters are events the workers gave up on: after the configured attempts, or at once for a \
            permanent failure. Fix the cause, then replay them.
            """,
        subcommands: [DeadListCommand.self, DeadShowCommand.self, DeadReplayCommand.self, DeadPurgeCommand.self]
    )
}

/// Dead letter ids look like `1700000000000-0` (a stream id), or `3-1700000000000-0` with several partitions (the
/// partition first); anything else is a typo, not an unknown id.
enum DeadLetterID {
    static func validate(_ ids: [String]) throws {
        for id in ids where !isValid(id) {
            throw ValidationError("'\(id)' is not a dead letter id (expected a stream id such as 1700000000000-0, or 3-1700000000000-0 with several partitions)")
        }
    }

    static func isValid(_ id: String) -> Bool {
        PartitionedQueue.idParts(id) != nil
    }
}

struct DeadListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List dead letters, newest first.",
        discussion: """
            Example:
              docketctl dead list --limit 20
              docketctl dead list --json | jq '.[].error'
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Show at most this many.")
    var limit: Int = 50

    @Flag(help: "Print a JSON array of {id, webhookId, error, attempts, failedAt}.")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be a positive number, got \(limit)") }
    }

    func run() async throws {
        let limit = self.limit
        let letters = try await OperatorConnections.withQueue(common) { queue in try await queue.deadLetters(limit: limit) }
            .map(\.shown)
        if json {
            print(DeadLetterFormat.jsonList(letters))
        } else if letters.isEmpty {
            print("no dead letters")
        } else {
            print(DeadLetterFormat.table(letters, now: Date(), width: Terminal.outputWidth()))
        }
    }
}

struct DeadShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one dead letter in full, its body pretty-printed.",
        discussion: "Example:\n  docketctl dead show 1700000000000-0"
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The dead letter's id, as `dead list` prints it.")
    var id: String

    func validate() throws { try DeadLetterID.validate([id]) }

    func run() async throws {
        let id = self.id
        guard let letter = try await OperatorConnections.withQueue(common, { queue in try await queue.deadLetter(id: id) }) else {
            throw OperatorError("no dead letter with id \(id)")
        }
        print(DeadLetterFormat.detail(letter.shown))
    }
}

struct DeadReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Move dead letters back to the events stream with their attempts reset.",
        discussion: """
            Each entry moves atomically (added to the events stream and deleted from the dead stream in one step), \
            so a crash or two operators replaying at once never loses or doubles an entry.
            Examples:
              docketctl dead replay 1700000000000-0
              docketctl dead replay --all --reason "document unknown" --dry-run
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "Ids of the dead letters to replay.")
    var ids: [String] = []

    @Flag(help: "Replay every dead letter (with --reason: every matching one).")
    var all = false

    @Option(help: "Only dead letters whose error contains this text.")
    var reason: String?

    @Flag(help: "Print what would be replayed and change nothing.")
    var dryRun = false

    func validate() throws {
        if all == !ids.isEmpty { throw ValidationError("give dead letter ids or --all (not both)") }
        try DeadLetterID.validate(ids)
    }

    func run() async throws {
        let (ids, all, reason, dryRun) = (self.ids, self.all, self.reason, self.dryRun)
        let filter = DeadLetterFilter(reason: reason)
        let report = try await OperatorConnections.withQueue(common) { queue in
            var lines: [String] = []
            var missing: [String] = []
            var moved = 0
            let candidates: [PartitionedQueue.Located]
            if all {
                candidates = try await queue.deadLetters(matching: filter)
            } else {
                var found: [PartitionedQueue.Located] = []
                for id in ids {
                    if let letter = try await queue.deadLetter(id: id) { found.append(letter) } else { missing.append(id) }
                }
                candidates = found.filter { filter.matches($0.letter) }
            }
            let progress = ProgressLine(verb: dryRun ? "checked" : "replayed", total: candidates.count, enabled: all && Terminal.errorIsTerminal)
            defer { progress.finish() }
            for (index, letter) in candidates.enumerated() {
                defer { progress.update(index + 1) }
                if dryRun {
                    lines.append("would replay \(letter.id) (webhook \(letter.letter.webhookId ?? "?")): \(letter.letter.error)")
                    moved += 1
                } else if let newId = try await queue.replay(letter) {
                    lines.append("replayed \(letter.id) -> \(newId)")
                    moved += 1
                } else if !all {
                    // Replayed or purged by someone else between our read and our move.
                    missing.append(letter.id)
                }
            }
            return (lines, missing, moved)
        }
        for line in report.0 { print(line) }
        print(dryRun ? "\(report.2) dead letter(s) would be replayed (dry run: nothing changed)" : "replayed \(report.2) dead letter(s)")
        if !report.1.isEmpty {
            throw OperatorError("no dead letter with id \(report.1.joined(separator: ", "))")
        }
    }
}

struct DeadPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete dead letters for good (requires --yes).",
        discussion: """
            Examples:
              docketctl dead purge 1700000000000-0 --yes
              docketctl dead purge --all --yes
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "Ids of the dead letters to delete.")
    var ids: [String] = []

    @Flag(help: "Delete every dead letter.")
    var all = false

    @Flag(help: "Confirm the deletion; without it nothing is deleted.")
    var yes = false

    func validate() throws {
        if all == !ids.isEmpty { throw ValidationError("give dead letter ids or --all (not both)") }
        try DeadLetterID.validate(ids)
        if !yes { throw ValidationError("refusing to delete dead letters without --yes") }
    }

    func run() async throws {
        let (ids, all) = (self.ids, self.all)
        let (deleted, missing) = try await OperatorConnections.withQueue(common) { queue in
            var targets: [PartitionedQueue.Located] = []
            var missing: [String] = []
            if all {
                targets = try await queue.deadLetters(matching: DeadLetterFilter())
            } else {
                for id in ids {
                    if let letter = try await queue.deadLetter(id: id) { targets.append(letter) } else { missing.append(id) }
                }
            }
            var deleted = 0
            let progress = ProgressLine(verb: "purged", total: targets.count, enabled: all && Terminal.errorIsTerminal)
            defer { progress.finish() }
            for (index, letter) in targets.enumerated() {
                if try await queue.purge(letter) { deleted += 1 } else { missing.append(letter.id) }
                progress.update(index + 1)
            }
            return (deleted, all ? [] : missing)
        }
        print("purged \(deleted) dead letter(s)")
        if !missing.isEmpty { throw OperatorError("no dead letter with id \(missing.joined(separator: ", "))") }
    }
}

extension PartitionedQueue.Located {
    /// The dead letter as operators see it: its id qualified by its partition when there are several.
    var shown: DeadLetter {
        var letter = self.letter
        letter.id = id
        return letter
    }
}
