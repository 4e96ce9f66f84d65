import ArgumentParser

/// `docketctl`: the operator's command (docs/reference.md §1).
struct DocketctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docketctl",
        abstract: "Operate Docket: migrate the schema, submit documents, inspect and replay dead letters, read stats, serve the web console.",
        discussion: """
            Exit codes: 0 success, 1 runtime failure (service unreachable, unknown id), 2 usage or configuration error.
            Every option with an environment variable (DOCKET_REDIS_URL, DOCKET_DATABASE_URL, DOCKET_REDIS_PREFIX, \
            DOCKET_PARTITIONS, DOCKET_CONSOLE_TOKEN) takes its default from it.
            """,
        subcommands: [MigrateCommand.self, SubmitCommand.self, DeadCommand.self, StatsCommand.self, ConsoleCommand.self, SignCommand.self]
    )
}
