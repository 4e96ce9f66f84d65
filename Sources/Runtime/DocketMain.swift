#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import ArgumentParser

/// The entry point of every Docket executable: parse, run, and map the outcome to the exit codes in
/// docs/reference.md §3.
///
/// 0 success or `--help`; 2 usage or configuration error (ArgumentParser's own 64 is replaced);
/// 1 any other error thrown by `run()`, printed as one line `docket-xxx: <description>`.
public enum DocketMain {
    /// Exit code for usage and configuration errors (docs/reference.md §3).
    public static let usageExitCode: Int32 = 2

    /// Parses the arguments into `command` (or one of its subcommands), runs it and exits the process.
    public static func run(_ command: any AsyncParsableCommand.Type, arguments: [String]? = nil) async -> Never {
        let outcome = await execute(command, arguments: arguments)
        if !outcome.output.isEmpty {
            if outcome.toStandardError {
                StandardError.write(outcome.output.hasSuffix("\n") ? outcome.output : outcome.output + "\n")
            } else {
                print(outcome.output)
            }
        }
        exit(outcome.exitCode)
    }

    /// What `run` would print and exit with; separate so tests can check it without exiting.
    struct Outcome: Sendable {
        var exitCode: Int32
        var output: String
        var toStandardError: Bool
    }

    static func execute(_ command: any AsyncParsableCommand.Type, arguments: [String]?) async -> Outcome {
        var parsed: any ParsableCommand
        do {
            parsed = try await command.asyncParseAsRoot(arguments)
            // Option defaults read DOCKET_* variables in property initialisers, which cannot throw: report them now.
            try DocketEnvironment.validate()
        } catch {
            return parseFailure(command, error)
        }
        do {
            if var asyncCommand = parsed as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try parsed.run()
            }
            return Outcome(exitCode: 0, output: "", toStandardError: false)
        } catch {
            return runFailure(command, error)
        }
    }

    private static func parseFailure(_ command: any AsyncParsableCommand.Type, _ error: any Error) -> Outcome {
        let code = command.exitCode(for: error)
        if code == .success {
            // --help, --version and the `help` subcommand.
            return Outcome(exitCode: 0, output: command.fullMessage(for: error, columns: nil), toStandardError: false)
        }
        // One line naming the option, as for configuration errors at run time; --help has the rest.
        let name = programName(command)
        let message = command.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        return Outcome(exitCode: usageExitCode, output: "\(name): \(message) (see \(name) --help)", toStandardError: true)
    }

    private static func runFailure(_ command: any AsyncParsableCommand.Type, _ error: any Error) -> Outcome {
        let name = programName(command)
        switch error {
        case let exitCode as ExitCode:
            return Outcome(exitCode: exitCode.rawValue, output: "", toStandardError: true)
        case let configuration as ConfigurationError:
            return Outcome(exitCode: usageExitCode, output: "\(name): \(configuration.message)", toStandardError: true)
        case let validation as ValidationError:
            return Outcome(exitCode: usageExitCode, output: "\(name): \(validation.message)", toStandardError: true)
        default:
            if command.exitCode(for: error) == .success {
                // A CleanExit thrown from run(), e.g. the built-in `help` subcommand.
                return Outcome(exitCode: 0, output: command.fullMessage(for: error, columns: nil), toStandardError: false)
            }
            let line = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            return Outcome(exitCode: 1, output: "\(name): \(line)", toStandardError: true)
        }
    }

    static func programName(_ command: any AsyncParsableCommand.Type) -> String {
        if let name = command.configuration.commandName {
            return name
        }
        let path = CommandLine.arguments.first ?? "docket"
        return path.split(separator: "/").last.map(String.init) ?? path
    }
}
