import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Queue
import Runtime
import ServiceLifecycle
import Store

/// `docketctl console`: the operators' web console (docs/reference.md §13).
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve a web console: live queue health, dead letters with replay and purge, reviews.",
        discussion: """
            The console needs a token. Set DOCKET_CONSOLE_TOKEN (at least 16 characters); when it is unset, a random \
            token is generated and a login URL printed once. Browsers log in at /login?token=T and get a signed, \
            HttpOnly, SameSite=Strict session cookie; scripts send `Authorization: Bearer T` (GET /api/overview).
            It listens on loopback by default; a non-loopback --listen is refused unless DOCKET_CONSOLE_TOKEN is set. \
            To reach it on a server: ssh -L 8070:127.0.0.1:8070 host, then open http://127.0.0.1:8070/.
            Example:
              DOCKET_CONSOLE_TOKEN=$(openssl rand -hex 24) docketctl console --listen 127.0.0.1:8070
            """
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Address to serve on, host:port (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:8070"

    /// Shortest token accepted from the environment.
    static let minimumTokenLength = 16

    func validate() throws {
        let address = try ListenAddress(listen)
        let token = ProcessInfo.processInfo.environment["DOCKET_CONSOLE_TOKEN"]
        if let token, token.count < Self.minimumTokenLength {
            throw ValidationError("DOCKET_CONSOLE_TOKEN must be at least \(Self.minimumTokenLength) characters (try: openssl rand -hex 24)")
        }
        if !address.isLoopback, token == nil {
            throw ValidationError("--listen \(listen) is not a loopback address: set DOCKET_CONSOLE_TOKEN to serve it beyond this machine")
        }
    }

    func run() async throws {
        let address = try ListenAddress(listen)
        let configured = ProcessInfo.processInfo.environment["DOCKET_CONSOLE_TOKEN"]
        let auth = ConsoleAuth(token: configured ?? ConsoleAuth.generateToken())
        let queueClient = try OperatorConnections.queue(common)
        let databaseURL = database.databaseURL
        try await DocketProcess.main(label: "docketctl-console", common: common, gracefulShutdownTimeout: .seconds(5)) { context, resources in
            let queue = resources.opened(queueClient) { $0.shutdown() }
            let store = resources.opened(StoreClient(url: databaseURL)) { $0.shutdown() }
            let history = ThroughputHistory()
            let routes = ConsoleRoutes(
                auth: auth, queue: queue, store: store, history: history, logger: context.logger, wrongTokenDelay: .seconds(1))
            let application = Application(
                router: routes.router(),
                configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: nil),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? address.port
                    let base = "http://\(address.urlHost):\(port)"
                    var lines = "Docket console on \(base)/\n"
                    if configured == nil {
                        lines += "Log in with the token generated for this run: \(base)/login?token=\(auth.token)\n"
                    }
                    FileHandle.standardOutput.write(Data(lines.utf8))
                },
                logger: context.logger)
            return [application, ThroughputSampler(history: history, queue: queue, store: store)]
        }
    }
}

/// Samples the counters for the overview's graphs until shutdown.
struct ThroughputSampler: Service {
    let history: ThroughputHistory
    let queue: PartitionedQueue
    let store: StoreClient

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await history.run(queue: queue, store: store)
        }
    }
}

/// `--listen`: `host:port`, `[v6]:port`.
struct ListenAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw Self.invalid(text) }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw Self.invalid(text) }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65_535).contains(number) else { throw Self.invalid(text) }
        self.host = String(host)
        self.port = number
    }

    static func invalid(_ text: String) -> ValidationError {
        ValidationError("--listen must be host:port (such as 127.0.0.1:8070 or [::1]:8070), got \"\(text)\"")
    }

    /// `localhost`, `::1` or an IPv4 literal in 127.0.0.0/8. Other names are not resolved here: a name such as
    /// `127.example.com` may stand for any address, so it counts as not loopback.
    var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } && UInt8($0) != nil } && octets[0] == "127"
    }

    /// The host as a URL writes it.
    var urlHost: String { host.contains(":") ? "[\(host)]" : host }
}
