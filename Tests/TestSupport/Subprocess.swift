import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with posix_spawn and reaped with waitpid.
///
/// Not Foundation's `Process`: on Linux it learns of a child's exit through a socket the child inherits, so it
/// hangs forever when a daemonized grandchild (pg_ctl → postgres) keeps that socket open.
final class Subprocess: Sendable {
    let pid: pid_t
    /// Exit status once reaped; the lock also keeps kill() from racing the reap (a reaped pid may be reused).
    private let status: Mutex<Int32?>

    /// Spawns `executable`; stdin from `stdinPath` (or /dev/null), stdout/stderr appended to the given files.
    init(
        executable: String,
        arguments: [String],
        environment: [String: String],
        workingDirectory: String? = nil,
        stdinPath: String? = nil,
        stdoutPath: String,
        stderrPath: String
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // Descriptors the test process holds (sockets, pipes of other children) must not leak into servers.
        if let closeFrom = GlibcExtensions.addCloseFrom {
            _ = closeFrom(&actions, 3)
        }
        var executable = executable
        var arguments = arguments
        if let workingDirectory {
            if let addChdir = GlibcExtensions.addChdir {
                _ = addChdir(&actions, workingDirectory)
            } else {
                arguments = ["-c", "cd \"$0\" && exec \"$@\"", workingDirectory, executable] + arguments
                executable = "/bin/sh"
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Threads of the test process block signals (dispatch does); without this a redis-server child would
        // inherit a mask with SIGTERM blocked and ignore stop().
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                guard let argvBase = argvBuffer.baseAddress, let envpBase = envpBuffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, executable, &actions, &attributes, argvBase, envpBase)
            }
        }
        guard result == 0 else {
            throw TestSupportError(.launchFailed, "could not launch \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        self.status = Mutex(nil)
    }

    /// The exit status if the child has exited (128+N after signal N), without blocking.
    func poll() -> Int32? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid {
                // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
                let signal = raw & 0x7F
                status = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
            } else if reaped < 0 && errno == ECHILD {
                status = -1  // reaped elsewhere; nothing more to learn
            }
            return status
        }
    }

    var isRunning: Bool { poll() == nil }

    /// Sends `signal` unless the child is already reaped.
    func send(_ signal: Int32) {
        status.withLock { status in
            if status == nil { _ = kill(pid, signal) }
        }
    }

    /// Waits up to `timeout` for the child to exit; nil if it is still running.
    func wait(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var pause = 0.001
        while true {
            if let status = poll() { return status }
            if ContinuousClock.now >= deadline { return nil }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 0.02)
        }
    }

    /// Waits for the child to exit, however long that takes.
    func wait() -> Int32 {
        while true {
            if let status = wait(timeout: .seconds(3600)) { return status }
        }
    }
}

/// glibc's `_np` spawn actions: Swift's Glibc module is built without _GNU_SOURCE, so look them up at run time.
private enum GlibcExtensions {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    static let addChdir: AddChdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
}
