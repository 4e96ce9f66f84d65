import Foundation
import Synchronization

/// A private PostgreSQL server (trust auth, fsync off) for tests that stop or restart the database.
public final class PostgresServerProcess: Sendable {
    /// Superuser URL: postgresql://postgres@127.0.0.1:PORT/postgres.
    public let url: String
    public let port: Int
    /// Holds the data directory, the server log and the socket.
    public let directory: String
    private let running: Mutex<Bool>

    private init(port: Int, directory: String) {
        self.port = port
        self.directory = directory
        self.url = "postgresql://postgres@127.0.0.1:\(port)/postgres"
        self.running = Mutex(false)
    }

    private var dataDirectory: String { "\(directory)/data" }

    /// initdb in a fresh temp directory and start the server on a free port; returns once it accepts connections.
    public static func start() throws -> PostgresServerProcess {
        let directory = try PostgresTools.makeOwnedDirectory(prefix: "docket-pg")
        do {
            try PostgresTools.runServerTool(
                "initdb",
                ["-D", "\(directory)/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                workingDirectory: directory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        // A bind can lose the race for a port freePort() handed out; try a few before giving up.
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = freePort()
            do {
                try writeSettings(port: port, directory: directory)
                try startServer(port: port, directory: directory)
                let server = PostgresServerProcess(port: port, directory: directory)
                server.running.withLock { $0 = true }
                return server
            } catch {
                lastError = error
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastError ?? TestSupportError(.launchFailed, "postgres did not start")
    }

    /// Settings live in postgresql.auto.conf rather than pg_ctl -o, so restart keeps the same port and socket.
    private static func writeSettings(port: Int, directory: String) throws {
        let settings = """
            port = \(port)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '\(directory)'
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            max_connections = 200

            """
        let path = "\(directory)/data/postgresql.auto.conf"
        // Rewritten from scratch on each attempt; the file belongs to postgres, so hand it back after writing.
        try Data(settings.utf8).write(to: URL(fileURLWithPath: path))
        if PostgresTools.isRoot {
            try Command.check("chown", ["postgres:postgres", path])
        }
    }

    private static func startServer(port: Int, directory: String) throws {
        let logFile = "\(directory)/postgres.log"
        do {
            try PostgresTools.runServerTool(
                "pg_ctl", ["-D", "\(directory)/data", "-l", logFile, "-w", "-t", "60", "start"],
                workingDirectory: directory)
        } catch {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw TestSupportError(.launchFailed, "postgres on port \(port) did not start: \(error)\n\(log)")
        }
    }

    /// Fast shutdown (rolls back open transactions, disconnects clients); waits until the server is gone.
    public func stop() {
        let wasRunning = running.withLock { value in
            defer { value = false }
            return value
        }
        guard wasRunning else { return }
        _ = try? PostgresTools.runServerTool(
            "pg_ctl", ["-D", dataDirectory, "-w", "-t", "60", "-m", "fast", "stop"], workingDirectory: directory)
    }

    /// Stops (if running) and starts again on the same port with the same data.
    public func restart() throws {
        stop()
        try Self.startServer(port: port, directory: directory)
        running.withLock { $0 = true }
    }

    /// Creates a fresh database on this server and returns its URL.
    public func makeDatabase(_ name: String) throws -> String {
        try PostgresTools.createDatabase(adminURL: url, name: name)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
