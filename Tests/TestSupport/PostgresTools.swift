import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the PostgreSQL binaries and runs them, as the `postgres` user when we are root.
enum PostgresTools {
    /// The newest `/usr/lib/postgresql/<version>/bin`; `/usr/local/bin/pg_ctl` may be a wrapper, so it is a last resort.
    static func binDirectory() throws -> String {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
            .filter { FileManager.default.isExecutableFile(atPath: "\(base)/\($0)/bin/initdb") }
            .sorted { (Double($0) ?? 0) < (Double($1) ?? 0) }
        if let newest = versions.last { return "\(base)/\(newest)/bin" }
        let initdb = try Command.resolve("initdb")
        return URL(fileURLWithPath: initdb).deletingLastPathComponent().path
    }

    static var isRoot: Bool { geteuid() == 0 }

    /// Runs a Postgres server binary; initdb refuses to run as root, so root goes through `runuser -u postgres`.
    @discardableResult
    static func runServerTool(_ tool: String, _ arguments: [String], workingDirectory: String) throws -> CommandResult {
        let path = "\(try binDirectory())/\(tool)"
        if isRoot {
            return try Command.check(
                "runuser", ["-u", "postgres", "--", path] + arguments, workingDirectory: workingDirectory)
        }
        return try Command.check(path, arguments, workingDirectory: workingDirectory)
    }

    /// psql from the newest installed version, else whatever is on PATH.
    static func psqlPath() -> String {
        if let directory = try? binDirectory(), FileManager.default.isExecutableFile(atPath: "\(directory)/psql") {
            return "\(directory)/psql"
        }
        return "psql"
    }

    /// CREATE DATABASE with a unique name derived from `name`; returns `adminURL` with its path replaced.
    static func createDatabase(adminURL: String, name: String) throws -> String {
        let slug = name.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" }
        let database = "t_\(String(slug.prefix(40)))_\(TestEnvironment.randomHex(8))"
        try Command.check(
            psqlPath(),
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", adminURL, "-c", "CREATE DATABASE \"\(database)\""])
        guard var components = URLComponents(string: adminURL) else {
            throw TestSupportError(.commandFailed, "not a URL: \(adminURL)")
        }
        components.path = "/\(database)"
        guard let url = components.string else {
            throw TestSupportError(.commandFailed, "cannot build a URL for database \(database)")
        }
        return url
    }

    /// A fresh directory under the temp folder that the `postgres` user owns (when we are root).
    static func makeOwnedDirectory(prefix: String) throws -> String {
        let path = "\(shortTemporaryDirectory())/\(prefix)-\(TestEnvironment.randomHex(8))"
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if isRoot {
            try Command.check("chown", ["postgres:postgres", path])
        }
        return path
    }

    /// Unix socket paths are limited to ~107 bytes, so prefer /tmp over a long TMPDIR.
    static func shortTemporaryDirectory() -> String {
        let tmp = FileManager.default.temporaryDirectory.path
        return tmp.utf8.count <= 40 ? tmp : "/tmp"
    }
}
