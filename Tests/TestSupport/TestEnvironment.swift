public import Foundation

/// Where the shared test services and the built executables are, taken from the environment with local defaults.
public enum TestEnvironment {
    /// Shared Redis for tests (DOCKET_TEST_REDIS_URL); tests keep apart by key prefix.
    public static var redisURL: String {
        ProcessInfo.processInfo.environment["DOCKET_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"
    }

    /// The Redis Cluster ops/test starts (DOCKET_TEST_REDIS_CLUSTER_URL): `redis://host:port,host:port,…`, its nodes.
    public static var redisClusterURL: String {
        ProcessInfo.processInfo.environment["DOCKET_TEST_REDIS_CLUSTER_URL"] ?? "redis://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"
    }

    /// The cluster's nodes as (host, port), from `redisClusterURL`.
    public static var redisClusterNodes: [(host: String, port: Int)] {
        redisClusterURL.dropFirst("redis://".count).split(separator: ",").compactMap { node in
            guard let colon = node.lastIndex(of: ":"), let port = Int(node[node.index(after: colon)...]) else { return nil }
            return (String(node[..<colon]), port)
        }
    }

    /// Shared Postgres admin URL (DOCKET_TEST_DATABASE_URL); tests create their own database from it.
    public static var databaseURL: String {
        ProcessInfo.processInfo.environment["DOCKET_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres"
    }

    /// A name no other test (or earlier run) uses: "t-<name>-<8 hex>x" (never ending in "-" and digits, which
    /// `--redis-prefix` reserves for partitions).
    public static func uniquePrefix(_ name: String) -> String {
        "t-\(name)-\(randomHex(8))x"
    }

    /// Creates a fresh database on the shared Postgres and returns its URL.
    public static func makeDatabase(_ name: String) throws -> String {
        try PostgresTools.createDatabase(adminURL: databaseURL, name: name)
    }

    /// Directory holding the built executables: DOCKET_TEST_PRODUCTS_DIR, else the test bundle's build directory.
    public static var productsDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["DOCKET_TEST_PRODUCTS_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        if let fromBundle = productsDirectoryOfRunningTests() { return fromBundle }
        return packageRoot().appendingPathComponent(".build/debug", isDirectory: true)
    }

    /// The test runner lives in the build directory (`.build/<triple>/debug/docketPackageTests.xctest` on Linux,
    /// `…/docketPackageTests.xctest/Contents/MacOS/…` on macOS), wherever `--build-path` put it.
    static func productsDirectoryOfRunningTests() -> URL? {
        let executable = Bundle.main.executableURL
            ?? CommandLine.arguments.first.map { URL(fileURLWithPath: $0) }
        guard var url = executable?.resolvingSymlinksInPath() else { return nil }
        var candidate = url.deletingLastPathComponent()
        while url.pathComponents.count > 1 {
            if url.pathExtension == "xctest" {
                candidate = url.deletingLastPathComponent()
                break
            }
            url = url.deletingLastPathComponent()
        }
        // A runner launched from somewhere unexpected (e.g. swift-testing's own helper in a toolchain) is not
        // next to our products; only trust a directory that holds SwiftPM build output.
        let markers = ["docketctl", "description.json", "Modules", "TestSupport.build"]
        let fm = FileManager.default
        return markers.contains { fm.fileExists(atPath: candidate.appendingPathComponent($0).path) } ? candidate : nil
    }

    /// The directory holding Package.swift, found by walking up from this source file.
    public static func packageRoot(from file: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: file).deletingLastPathComponent()
        while url.pathComponents.count > 1 {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    public static func randomHex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int.random(in: 0..<16)] })
    }
}
