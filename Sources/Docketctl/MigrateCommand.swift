import ArgumentParser
import Runtime
import Store

/// `docketctl migrate`: brings the database to the latest schema; idempotent and safe to run concurrently
/// (docs/reference.md §1, §9).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the Postgres schema (idempotent; takes an advisory lock)."
    )

    @OptionGroup var database: DatabaseOptions

    init() {}

    func run() async throws {
        let applied = try await OperatorConnections.withStore(database) { store in try await store.migrate() }
        if applied.isEmpty {
            print("schema is up to date (version \(Migrator.latestVersion))")
        } else {
            let versions = applied.map(String.init).joined(separator: ", ")
            print("applied migration\(applied.count == 1 ? "" : "s") \(versions)")
        }
    }
}
