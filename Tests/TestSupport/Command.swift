import Foundation

/// What a finished command printed and how it ended.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs helper binaries (psql, initdb, pg_ctl, …) to completion.
enum Command {
    /// The environment a child starts with: this process's, minus any `DOCKET_*` setting (other tests may set them
    /// for a moment, and a child must see only what its own test passes), plus `overrides`. `DOCKET_TEST_*` stays.
    static func childEnvironment(_ overrides: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment
            .filter { !$0.key.hasPrefix("DOCKET_") || $0.key.hasPrefix("DOCKET_TEST_") }
            .merging(overrides) { _, new in new }
    }

    /// Runs `executable` and waits for it; stdout/stderr go to temporary files rather than pipes,
    /// so a chatty child can never block on a full pipe while we wait for it (exit 128+N after signal N).
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil,
        workingDirectory: String? = nil
    ) throws -> CommandResult {
        let path = try resolve(executable)
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("docket-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        let inURL = scratch.appendingPathComponent("stdin")
        try createFile(outURL.path)
        try createFile(errURL.path)
        try createFile(inURL.path, contents: Data((stdin ?? "").utf8))

        let child = try Subprocess(
            executable: path,
            arguments: arguments,
            environment: Command.childEnvironment(environment),
            workingDirectory: workingDirectory,
            stdinPath: inURL.path,
            stdoutPath: outURL.path,
            stderrPath: errURL.path)
        let status = child.wait()
        return CommandResult(
            status: status,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        )
    }

    /// Like `run`, but a non-zero exit is an error carrying the command's stderr.
    @discardableResult
    static func check(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        workingDirectory: String? = nil
    ) throws -> CommandResult {
        let result = try run(executable, arguments, environment: environment, workingDirectory: workingDirectory)
        guard result.status == 0 else {
            let shown = ([executable] + arguments).joined(separator: " ")
            throw TestSupportError(
                .commandFailed,
                "`\(shown)` exited with \(result.status): \(result.stderr)\(result.stdout)"
            )
        }
        return result
    }

    /// Creates (or truncates) a file, throwing instead of returning false.
    static func createFile(_ path: String, contents: Data? = nil) throws {
        guard FileManager.default.createFile(atPath: path, contents: contents) else {
            throw TestSupportError(.launchFailed, "cannot create \(path)")
        }
    }

    /// Finds `name` on PATH unless it is already a path.
    static func resolve(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestSupportError(.binaryNotFound, "\(name) is not on PATH: install it (ops/test installs what is missing)")
    }
}
