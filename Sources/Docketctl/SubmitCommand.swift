import ArgumentParser
import Model
import Runtime
import Store

/// `docketctl submit URL... | --file PATH`: validates every URL, queues them all as QUEUED reviews in one transaction,
/// wakes the schedulers, and prints the new ids one per line (docs/reference.md §1).
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue documents for review and print their ids, one per line.",
        discussion: """
            Every URL must be http or https with a host. One bad URL (argument or line) fails the whole submission \
            with exit code 2 and queues nothing.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("Document URLs to review.", valueName: "url"))
    var urls: [String] = []

    @Option(name: .customLong("file"), help: ArgumentHelp("Read URLs from a file, one per line; - reads standard input.", valueName: "path"))
    var file: String?

    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Rows per INSERT statement when reading a file.", valueName: "n"))
    var batchSize = 5_000

    init() {}

    func validate() throws {
        if urls.isEmpty && file == nil {
            throw ValidationError("give at least one URL, or --file PATH (- for standard input)")
        }
        try OptionCheck("--batch-size").atLeast(1, batchSize)
        for (index, url) in urls.enumerated() {
            if let problem = DocumentURL.validate(url) {
                throw ValidationError("argument \(index + 1) (\(Self.shown(url))): URL \(problem); nothing was queued")
            }
        }
    }

    func run() async throws {
        let arguments = urls
        let file = self.file
        let batchSize = self.batchSize
        // One transaction: a bad line found halfway through rolls back every row already inserted.
        let ids = try await OperatorConnections.withStore(database) { store in
            try await store.submitAtomically { submission in
                try Self.submit(arguments: arguments, file: file, batchSize: batchSize, into: submission)
            }
        }
        var output = ""
        output.reserveCapacity(ids.count * 8)
        for id in ids {
            output += String(id)
            output += "\n"
        }
        print(output, terminator: "")
    }

    /// Inserts the arguments, then the file's lines in batches of `batchSize`; throws `ValidationError` naming the first
    /// bad line (the caller's transaction then rolls everything back).
    static func submit(arguments: [String], file: String?, batchSize: Int, into submission: ReviewSubmission) throws -> [Int] {
        var ids = try submission.submit(arguments)
        guard let file else { return ids }
        let reader = try LineReader(path: file)
        var batch: [String] = []
        batch.reserveCapacity(batchSize)
        while let entry = reader.next() {
            let (number, line) = entry
            let url = line.trimmingSpaces()
            // Blank lines (a trailing newline, spacing) are not URLs and carry no meaning.
            if url.isEmpty { continue }
            if let problem = DocumentURL.validate(url) {
                throw ValidationError("\(reader.name) line \(number) (\(shown(url))): URL \(problem); nothing was queued")
            }
            batch.append(url)
            if batch.count >= batchSize {
                ids += try submission.submit(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if let failure = reader.failure {
            throw ConfigurationError("cannot read \(reader.name): \(failure); nothing was queued")
        }
        ids += try submission.submit(batch)
        if ids.isEmpty {
            throw ValidationError("\(reader.name) holds no URLs; nothing was queued")
        }
        return ids
    }

    /// A URL as quoted in an error: long ones shortened so the message stays one readable line.
    static func shown(_ url: String) -> String {
        let printable = String(url.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return "\"" + (printable.count > 80 ? printable.prefix(80) + "…" : printable) + "\""
    }
}

extension String {
    /// Without surrounding spaces, tabs and line endings (CRLF files end lines in "\r").
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.unicodeScalars.first, first == " " || first == "\t" || first == "\r" || first == "\n" {
            scalars = scalars.dropFirst()
        }
        while let last = scalars.unicodeScalars.last, last == " " || last == "\t" || last == "\r" || last == "\n" {
            scalars = scalars.dropLast()
        }
        return String(scalars)
    }
}
