public import ArgumentParser
public import Logging

/// Options the gateway, worker, scheduler and docketctl `stats`/`dead` share (docs/reference.md §1, §2): Redis
/// location and key prefix, log format and level.
///
/// Use as `@OptionGroup var common: CommonOptions`.
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("redis-url"),
        help: ArgumentHelp(
            "Redis URL, redis://[:password@]host:port/db; for a cluster redis://[:password@]host:port[,host:port…] (env DOCKET_REDIS_URL).",
            valueName: "url")
    )
    public var redisURL: String = DocketEnvironment.string("DOCKET_REDIS_URL", default: "redis://127.0.0.1:6379/0")

    @Flag(
        name: .customLong("redis-cluster"), inversion: .prefixedNo,
        help: ArgumentHelp(
            "Redis is a Redis Cluster: --redis-url then lists one or more seed nodes, redis://h1:7000,h2:7001 (env DOCKET_REDIS_CLUSTER=1).")
    )
    public var redisCluster: Bool = DocketEnvironment.flag("DOCKET_REDIS_CLUSTER")

    @Option(
        name: .customLong("redis-prefix"),
        help: ArgumentHelp("Prefix of every Redis key, as in {PREFIX}:events (env DOCKET_REDIS_PREFIX).", valueName: "prefix")
    )
    public var redisPrefix: String = DocketEnvironment.string("DOCKET_REDIS_PREFIX", default: "docket")

    @Option(
        name: .customLong("partitions"),
        help: ArgumentHelp(
            "Partitions of the queue, 1–1024: partition 0's keys are {PREFIX}:…, partition i's {PREFIX-i}:… (env DOCKET_PARTITIONS; every process must agree).",
            valueName: "n")
    )
    public var partitions: Int = DocketEnvironment.int("DOCKET_PARTITIONS", default: 1)

    @Option(
        name: .customLong("log-format"),
        help: ArgumentHelp("Log line format on stderr (env DOCKET_LOG_FORMAT).", valueName: "format")
    )
    public var logFormat: LogFormat = DocketEnvironment.value("DOCKET_LOG_FORMAT", default: LogFormat.text)

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("Lowest level logged (env DOCKET_LOG_LEVEL).", valueName: "level")
    )
    public var logLevel: LogLevel = DocketEnvironment.value("DOCKET_LOG_LEVEL", default: LogLevel.info)

    public init() {}

    public func validate() throws {
        if !redisURL.hasPrefix("redis://") {
            // Never echo the value: it may carry a password.
            throw ValidationError("--redis-url must be a redis:// URL (redis://[:password@]host:port/db)")
        }
        try OptionCheck("--partitions", variable: "DOCKET_PARTITIONS").within(1...1_024, partitions)
        // `{PREFIX-3}` is partition 3 of PREFIX: a prefix of that shape would share keys with another installation.
        if let dash = redisPrefix.lastIndex(of: "-"), redisPrefix.index(after: dash) < redisPrefix.endIndex,
           redisPrefix[redisPrefix.index(after: dash)...].allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw ValidationError(
                "--redis-prefix must not end in \"-\" and digits (reserved for partitions: partition 3 of \"docket\" is {docket-3}), got \"\(redisPrefix)\"")
        }
        // The prefix is wrapped in braces to pin every key to one cluster slot, so it may not contain any itself.
        if redisPrefix.isEmpty || redisPrefix.contains("{") || redisPrefix.contains("}") || redisPrefix.contains(" ") {
            throw ValidationError("--redis-prefix must be non-empty without braces or spaces, got \"\(redisPrefix)\"")
        }
    }

    /// The one wording of a `--redis-url` the Redis client refused (`message` says why and holds no password).
    public static func invalidRedisURL(_ message: String) -> ConfigurationError {
        ConfigurationError("--redis-url (DOCKET_REDIS_URL) is invalid: \(message)")
    }

    /// Bootstraps process-wide logging from `--log-format`/`--log-level` (once per process) and returns a logger.
    public func makeLogger(label: String) -> Logger {
        LoggingBootstrap.bootstrap(format: logFormat, level: logLevel.level, label: label)
    }
}
