import Foundation

/// One of our built executables (or any binary) running as a child of the test, output captured in a log file.
public final class ChildProcess: Sendable {
    /// Process id of the child.
    public let pid: Int32
    /// File receiving the child's stdout and stderr, interleaved; removed when this object goes away.
    public let logPath: String
    private let process: Subprocess

    private init(process: Subprocess, logPath: String) {
        self.process = process
        self.pid = process.pid
        self.logPath = logPath
    }

    /// Runs `TestEnvironment.productsDirectory/product` (or `product` itself if it is an absolute path)
    /// with `environment` merged over the current one (less its `DOCKET_*` settings: see `Command.childEnvironment`).
    public static func launch(
        product: String,
        arguments: [String] = [],
        environment: [String: String] = [:]
    ) throws -> ChildProcess {
        let executable = executablePath(product)
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSupportError(
                .binaryNotFound, "\(executable) does not exist: build it first (swift build --build-tests builds all products)")
        }
        let name = URL(fileURLWithPath: product).lastPathComponent
        let logPath = "\(PostgresTools.shortTemporaryDirectory())/docket-\(name)-\(TestEnvironment.randomHex(8)).log"
        try Command.createFile(logPath)
        let process = try Subprocess(
            executable: executable,
            arguments: arguments,
            environment: Command.childEnvironment(environment),
            stdoutPath: logPath,
            stderrPath: logPath)
        return ChildProcess(process: process, logPath: logPath)
    }

    /// Runs a product to completion (CLI tests): separate stdout and stderr, optional stdin text.
    public static func run(
        product: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        stdin: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let executable = executablePath(product)
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSupportError(
                .binaryNotFound, "\(executable) does not exist: build it first (swift build --build-tests builds all products)")
        }
        let result = try Command.run(executable, arguments, environment: environment, stdin: stdin)
        return (result.status, result.stdout, result.stderr)
    }

    static func executablePath(_ product: String) -> String {
        product.hasPrefix("/")
            ? product
            : TestEnvironment.productsDirectory.appendingPathComponent(product).path
    }

    /// Everything the child has written to stdout and stderr so far.
    public var output: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Whether the child is still running.
    public var isRunning: Bool { process.isRunning }

    /// SIGTERM: asks the child to shut down gracefully.
    public func terminate() {
        process.send(SIGTERM)
    }

    /// SIGKILL: the child dies at once, as in a crash.
    public func kill9() {
        process.send(SIGKILL)
    }

    /// Exit code once the child has exited (128+N if killed by signal N), or nil if it still runs after `timeout`.
    public func waitForExit(timeout: Duration) -> Int32? {
        process.wait(timeout: timeout)
    }

    deinit {
        if process.isRunning {
            process.send(SIGKILL)
            _ = process.wait()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }
}
