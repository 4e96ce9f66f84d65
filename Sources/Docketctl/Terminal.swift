#if canImport(Glibc)
import Durations
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What docketctl needs to know about where its output goes.
enum Terminal {
    /// Columns for a table on standard output: nil when it is not a terminal (a pipe or a file gets whole lines),
    /// else `COLUMNS`, else the terminal's own width, else 80.
    static func outputWidth(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        if let columns = environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// Whether progress lines may be drawn on standard error.
    static var errorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

/// "replayed 1200 of 5000 (850/s)" on one updating line of standard error while a long operation runs on a terminal;
/// nothing otherwise. At most ten updates a second.
final class ProgressLine {
    private let verb: String
    private let total: Int
    private let enabled: Bool
    private let write: (String) -> Void
    private let started = ContinuousClock.now
    private var lastDrawn: ContinuousClock.Instant?
    private var drewAnything = false

    init(verb: String, total: Int, enabled: Bool = Terminal.errorIsTerminal, write: @escaping (String) -> Void = { text in
        FileHandle.standardError.write(Data(text.utf8))
    }) {
        self.verb = verb
        self.total = total
        self.enabled = enabled
        self.write = write
    }

    /// Reports that `done` of the total are done.
    func update(_ done: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < .milliseconds(100), done < total { return }
        lastDrawn = now
        drewAnything = true
        write("\r\(Self.text(verb: verb, done: done, total: total, elapsed: now - started))\u{1B}[K")
    }

    /// Ends the line, so the summary that follows starts on its own.
    func finish() {
        if drewAnything { write("\n") }
    }

    /// The line's text, e.g. "replayed 1200 of 5000 (850/s)".
    static func text(verb: String, done: Int, total: Int, elapsed: Duration) -> String {
        let seconds = elapsed.seconds
        let rate = seconds > 0 ? Int((Double(done) / seconds).rounded()) : 0
        return "\(verb) \(done) of \(total) (\(rate)/s)"
    }
}
