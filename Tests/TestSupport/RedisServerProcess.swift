import Foundation
import Synchronization

/// A private redis-server child process for tests that stop, kill or restart Redis.
public final class RedisServerProcess: Sendable {
    /// redis://127.0.0.1:PORT/0
    public let url: String
    public let port: Int
    /// Working directory of the server: AOF files and the log live here and survive restart().
    public let directory: String
    private let appendOnly: Bool
    private let fsyncAlways: Bool
    /// A Redis Cluster node (`--cluster-enabled yes`), its nodes.conf in `directory`, so a restart rejoins.
    private let clusterNode: Bool
    private let process: Mutex<Subprocess?>

    private init(port: Int, directory: String, appendOnly: Bool, fsyncAlways: Bool, clusterNode: Bool, process: Subprocess) {
        self.port = port
        self.directory = directory
        self.appendOnly = appendOnly
        self.fsyncAlways = fsyncAlways
        self.clusterNode = clusterNode
        self.url = "redis://127.0.0.1:\(port)/0"
        self.process = Mutex(process)
    }

    /// Starts redis-server on a free port of 127.0.0.1; returns once it answers PING. `fsyncAlways` (with `appendOnly`)
    /// makes every write durable before Redis answers it, so a kill -9 loses nothing that was answered.
    /// `DEBUG` (e.g. `DEBUG SLEEP`, a hung server) is allowed from loopback.
    /// `clusterNode`: a Redis Cluster node with a 1 s node timeout (`RedisClusterProcess` joins them).
    public static func start(appendOnly: Bool = false, fsyncAlways: Bool = false, clusterNode: Bool = false) throws -> RedisServerProcess {
        let directory = "\(PostgresTools.shortTemporaryDirectory())/docket-redis-\(TestEnvironment.randomHex(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A bind can lose the race for a port freePort() handed out; try a few before giving up.
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = freePort()
            do {
                let process = try launch(
                    port: port, directory: directory, appendOnly: appendOnly, fsyncAlways: fsyncAlways, clusterNode: clusterNode)
                return RedisServerProcess(
                    port: port, directory: directory, appendOnly: appendOnly, fsyncAlways: fsyncAlways, clusterNode: clusterNode,
                    process: process)
            } catch {
                lastError = error
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastError ?? TestSupportError(.launchFailed, "redis-server did not start")
    }

    private static func launch(port: Int, directory: String, appendOnly: Bool, fsyncAlways: Bool, clusterNode: Bool) throws -> Subprocess {
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory,
            "--daemonize", "no", "--save", "", "--appendonly", appendOnly ? "yes" : "no",
            "--appendfsync", fsyncAlways ? "always" : "everysec", "--logfile", "\(directory)/redis.log",
            "--enable-debug-command", "local",
        ]
        if clusterNode {
            arguments += [
                "--cluster-enabled", "yes", "--cluster-config-file", "\(directory)/nodes.conf", "--cluster-node-timeout", "1000",
                // Replicas sync at once rather than after the default 5 s of waiting for others.
                "--repl-diskless-sync-delay", "0",
            ]
        }
        // Each launch starts a fresh log (the previous one kept as redis.log.1) so "Ready" below is this launch's.
        let log = "\(directory)/redis.log"
        try? FileManager.default.removeItem(atPath: log + ".1")
        try? FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        let process = try Subprocess(
            executable: try Command.resolve("redis-server"),
            arguments: arguments,
            environment: ProcessInfo.processInfo.environment,
            stdoutPath: "/dev/null",
            stderrPath: "/dev/null")
        do {
            try waitUntil(timeout: .seconds(20), poll: .milliseconds(20), what: "redis-server on port \(port) to answer PING") {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                guard process.isRunning else {
                    throw TestSupportError(.launchFailed, "redis-server on port \(port) exited: \(text.suffix(2000))")
                }
                // PING alone could be answered by another server that won the race for this port.
                return text.contains("Ready to accept connections") && redisInlineCommand(port: port, "PING") == "+PONG"
            }
        } catch {
            process.send(SIGKILL)
            _ = process.wait()
            throw error
        }
        return process
    }

    /// SIGTERM and wait: Redis shuts down cleanly (flushing the AOF when enabled).
    public func stop() {
        guard let process = process.withLock({ $0.take() }) else { return }
        process.send(SIGTERM)
        if process.wait(timeout: .seconds(10)) == nil {
            process.send(SIGKILL)
        }
        _ = process.wait()
    }

    /// SIGKILL: a crash, nothing flushed beyond what the OS already has.
    public func kill9() {
        guard let process = process.withLock({ $0.take() }) else { return }
        process.send(SIGKILL)
        _ = process.wait()
    }
    /// Starts again after `kill9` or `stop`, on the same port and directory (a cluster node rejoins from its nodes.conf).
    public func start() throws {
        try restart()
    }

    /// Stops (if running) and starts again on the same port and directory, so AOF data survives when enabled.
    public func restart() throws {
        stop()
        // The old socket may linger a moment; redis sets SO_REUSEADDR, but retry briefly anyway.
        var lastError: (any Error)?
        for _ in 0..<10 {
            do {
                let started = try Self.launch(
                    port: port, directory: directory, appendOnly: appendOnly, fsyncAlways: fsyncAlways, clusterNode: clusterNode)
                process.withLock { $0 = started }
                return
            } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        throw lastError ?? TestSupportError(.launchFailed, "redis-server did not restart on port \(port)")
    }

    /// `redis-cli -p PORT arguments…`'s output ("" when it fails).
    public func cli(_ arguments: [String]) -> String {
        (try? Command.check("redis-cli", ["-p", "\(port)"] + arguments).stdout) ?? ""
    }

    /// Whether the server process is alive.
    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
