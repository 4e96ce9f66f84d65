import Foundation
import TestSupport

/// A real nginx (the Debian package) running as a plain child process with Docket's shared proxy snippets
/// (`ops/nginx/docket-http.conf`, `ops/nginx/docket-server.conf`) in front of one gateway port.
///
/// Only what differs per deployment is rendered here, exactly as `ops/nginx/docket.conf` does it: the upstream
/// address and the listen address. Everything the tests check (limits, headers, hidden endpoints) is the shipped text.
final class NginxServer {
    /// Port nginx listens on (127.0.0.1).
    let port: Int
    /// Scratch directory: rendered nginx.conf, temp paths, access log.
    let directory: String
    private let process: ChildProcess

    private init(port: Int, directory: String, process: ChildProcess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// The nginx binary, or a loud failure naming the package: the proxy tests never skip.
    static func executable() throws -> String {
        let candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx", "/usr/bin/nginx"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError(.binaryNotFound, "nginx is not installed: ops/test installs it (apt-get install nginx)")
        }
        return found
    }

    /// Renders the configuration, starts nginx in the foreground and waits until it accepts connections.
    static func start(upstreamPort: Int) throws -> NginxServer {
        let binary = try executable()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent(TestEnvironment.uniquePrefix("nginx")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = freePort()
        let configuration = "\(directory)/nginx.conf"
        try render(directory: directory, port: port, upstreamPort: upstreamPort)
            .write(toFile: configuration, atomically: true, encoding: .utf8)

        // -e stderr: nginx would otherwise try the packaged /var/log/nginx/error.log before reading our configuration.
        let process = try ChildProcess.launch(
            product: binary, arguments: ["-e", "stderr", "-p", directory, "-c", configuration])
        let server = NginxServer(port: port, directory: directory, process: process)
        try waitUntil(timeout: .seconds(15), what: "nginx to listen on \(port)") {
            guard process.isRunning else {
                throw TestSupportError(.launchFailed, "nginx exited at start:\n\(process.output)")
            }
            return (try? LoopbackHTTPClient.exchange(port: port, method: "GET", path: "/")) != nil
        }
        return server
    }

    /// nginx's scratch directories, all inside `directory` (its defaults are root-owned system paths).
    static func temporaryPaths(_ directory: String) -> String {
        ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
            .map { "\($0)_temp_path \(directory)/\($0);" }
            .joined(separator: " ")
    }

    /// The top-level configuration: one foreground process (no master, so a killed test leaves no orphaned worker),
    /// every path inside `directory`, and the shipped snippets included by absolute path.
    static func render(directory: String, port: Int, upstreamPort: Int) -> String {
        """
        # Rendered by Tests/SystemTests/NginxServer.swift; the proxy's behaviour comes from the included ops/nginx snippets.
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(directory)/nginx.pid;
        error_log stderr notice;
        events { worker_connections 256; }
        http {
            \(temporaryPaths(directory))

            include \(OpsDirectory.path("nginx/docket-http.conf"));
            access_log \(directory)/access.log docket;

            upstream docket_gateways {
                server 127.0.0.1:\(upstreamPort) max_fails=3 fail_timeout=10s;
                keepalive 8;
            }

            server {
                listen 127.0.0.1:\(port);
                include \(OpsDirectory.path("nginx/docket-server.conf"));
            }
        }

        """
    }

    /// nginx's stderr (error log).
    var output: String { process.output }

    /// The access log so far (ops/nginx's `docket` JSON format, one object a line).
    var accessLog: String {
        (try? String(contentsOfFile: "\(directory)/access.log", encoding: .utf8)) ?? ""
    }

    /// Stops nginx (SIGTERM: fast shutdown) and removes its scratch directory.
    func stop() {
        if process.isRunning {
            process.terminate()
            if process.waitForExit(timeout: .seconds(10)) == nil {
                process.kill9()
                _ = process.waitForExit(timeout: .seconds(5))
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit {
        stop()
    }
}
