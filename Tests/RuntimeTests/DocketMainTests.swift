#if canImport(Glibc)
import ArgumentParser
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Runtime

/// A command shaped like an executable's, to check parsing, help text and exit codes without exiting.
struct SampleCommand: AsyncParsableCommand, MetricsPortDefault {
    static let configuration = CommandConfiguration(commandName: "docket-sample")
    static let defaultMetricsPort = 9101

    @OptionGroup var common: CommonOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var metrics: MetricsOptions<SampleCommand>
    @Option var outcome: String = "ok"

    func run() async throws {
        switch outcome {
        case "fail": throw SampleFailure()
        case "config": throw ConfigurationError("DOCKET_WEBHOOK_SECRET is not set: the gateway needs at least one whsec_ secret")
        default: return
        }
    }
}

struct SampleFailure: Error, CustomStringConvertible {
    var description: String { "Redis unreachable at 127.0.0.1:1\n(connection refused)" }
}

// Serialized: these tests set real DOCKET_* variables, which are process-wide.
@Suite(.serialized) struct DocketMainTests {
    @Test func helpShowsEveryVariableAndDefaultAndExitsZero() async {
        let outcome = await DocketMain.execute(SampleCommand.self, arguments: ["--help"])
        #expect(outcome.exitCode == 0)
        #expect(!outcome.toStandardError)
        for expected in [
            "DOCKET_REDIS_URL", "redis://127.0.0.1:6379/0", "DOCKET_REDIS_PREFIX", "default: docket",
            "DOCKET_LOG_FORMAT", "default: text", "DOCKET_LOG_LEVEL", "default: info",
            "DOCKET_DATABASE_URL", "postgresql://docket@127.0.0.1:5432/docket", "DOCKET_METRICS_PORT", "default: 9101",
        ] {
            #expect(outcome.output.contains(expected), "help lacks \(expected)")
        }
    }

    @Test func badURLsAreRefusedWithoutEchoingTheirPassword() async {
        let redis = await DocketMain.execute(SampleCommand.self, arguments: ["--redis-url", "http://:hunter2@127.0.0.1:6379"])
        #expect(redis.exitCode == 2)
        #expect(redis.output.contains("--redis-url"))
        #expect(!redis.output.contains("hunter2"))
        let database = await DocketMain.execute(SampleCommand.self, arguments: ["--database-url", "mysql://app:hunter2@db/x"])
        #expect(database.exitCode == 2)
        #expect(database.output.contains("--database-url"))
        #expect(!database.output.contains("hunter2"))
    }

    @Test func successExitsZero() async {
        let outcome = await DocketMain.execute(SampleCommand.self, arguments: [])
        #expect(outcome.exitCode == 0)
        #expect(outcome.output.isEmpty)
    }

    @Test func usageErrorsExitTwoNamingTheOption() async {
        let badFormat = await DocketMain.execute(SampleCommand.self, arguments: ["--log-format", "xml"])
        #expect(badFormat.exitCode == 2)
        #expect(badFormat.toStandardError)
        #expect(badFormat.output.contains("--log-format"))

        let badPrefix = await DocketMain.execute(SampleCommand.self, arguments: ["--redis-prefix", "{x}"])
        #expect(badPrefix.exitCode == 2)
        #expect(badPrefix.output.contains("--redis-prefix must be"))

        // A prefix shaped like a partition's hash tag would share keys with another installation's partitions.
        let partitionShaped = await DocketMain.execute(SampleCommand.self, arguments: ["--redis-prefix", "shop-2"])
        #expect(partitionShaped.exitCode == 2)
        #expect(partitionShaped.output.contains("--redis-prefix must not end in \"-\" and digits"))
        #expect(await DocketMain.execute(SampleCommand.self, arguments: ["--redis-prefix", "shop-2b"]).exitCode == 0)

        let badPartitions = await DocketMain.execute(SampleCommand.self, arguments: ["--partitions", "0"])
        #expect(badPartitions.exitCode == 2)
        #expect(badPartitions.output.contains("--partitions (DOCKET_PARTITIONS)"))

        let badPort = await DocketMain.execute(SampleCommand.self, arguments: ["--metrics-port", "70000"])
        #expect(badPort.exitCode == 2)
        #expect(badPort.output.contains("--metrics-port (DOCKET_METRICS_PORT) must be between 0 and 65535"))

        let unknown = await DocketMain.execute(SampleCommand.self, arguments: ["--no-such-flag"])
        #expect(unknown.exitCode == 2)
        #expect(unknown.output.contains("--no-such-flag"))

        // Each is one line (README: "one line naming the option"), without ArgumentParser's usage block.
        for outcome in [badFormat, badPrefix, badPort, unknown] {
            #expect(outcome.output.split(whereSeparator: \.isNewline).count == 1, "\(outcome.output)")
            #expect(!outcome.output.contains("Usage:"))
        }
    }

    @Test func runtimeErrorIsOneLineAndExitsOne() async {
        let outcome = await DocketMain.execute(SampleCommand.self, arguments: ["--outcome", "fail"])
        #expect(outcome.exitCode == 1)
        #expect(outcome.toStandardError)
        #expect(outcome.output == "docket-sample: Redis unreachable at 127.0.0.1:1 (connection refused)")
    }

    @Test func configurationErrorAtRunTimeExitsTwo() async {
        let outcome = await DocketMain.execute(SampleCommand.self, arguments: ["--outcome", "config"])
        #expect(outcome.exitCode == 2)
        #expect(outcome.output.hasPrefix("docket-sample: DOCKET_WEBHOOK_SECRET is not set"))
    }

    @Test func invalidEnvironmentValuesExitTwoNamingTheVariable() async {
        setenv("DOCKET_METRICS_PORT", "ninety", 1)
        let badPort = await DocketMain.execute(SampleCommand.self, arguments: [])
        unsetenv("DOCKET_METRICS_PORT")
        #expect(badPort.exitCode == 2)
        #expect(badPort.output.contains("DOCKET_METRICS_PORT must be an integer, got \"ninety\""))

        setenv("DOCKET_LOG_FORMAT", "xml", 1)
        let badFormat = await DocketMain.execute(SampleCommand.self, arguments: [])
        unsetenv("DOCKET_LOG_FORMAT")
        #expect(badFormat.exitCode == 2)
        #expect(badFormat.output.contains("DOCKET_LOG_FORMAT must be one of json, text"))

        // Once fixed, the same process parses cleanly again.
        let fixed = await DocketMain.execute(SampleCommand.self, arguments: [])
        #expect(fixed.exitCode == 0)
    }

    @Test func environmentProvidesDefaultsAndFlagsWin() throws {
        setenv("DOCKET_REDIS_PREFIX", "staging", 1)
        setenv("DOCKET_METRICS_PORT", "9200", 1)
        defer {
            unsetenv("DOCKET_REDIS_PREFIX")
            unsetenv("DOCKET_METRICS_PORT")
        }
        let fromEnvironment = try SampleCommand.parse([])
        #expect(fromEnvironment.common.redisPrefix == "staging")
        #expect(fromEnvironment.metrics.metricsPort == 9200)
        let fromFlags = try SampleCommand.parse(["--redis-prefix", "prod", "--metrics-port", "0"])
        #expect(fromFlags.common.redisPrefix == "prod")
        #expect(fromFlags.metrics.metricsPort == 0)
        #expect(fromFlags.common.logLevel.level == .info)
    }
}
