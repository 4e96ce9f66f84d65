public import ArgumentParser

/// The Postgres location for processes that use it (worker, scheduler, docketctl).
///
/// Use as `@OptionGroup var database: DatabaseOptions`.
public struct DatabaseOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp("Postgres URL, postgresql://user[:password]@host:port/db (env DOCKET_DATABASE_URL).", valueName: "url")
    )
    public var databaseURL: String = DocketEnvironment.string(
        "DOCKET_DATABASE_URL",
        default: "postgresql://docket@127.0.0.1:5432/docket"
    )

    public init() {}

    public func validate() throws {
        if !(databaseURL.hasPrefix("postgresql://") || databaseURL.hasPrefix("postgres://")) {
            // Never echo the value: it may carry a password.
            throw ValidationError("--database-url must be a postgresql:// URL")
        }
    }
}
