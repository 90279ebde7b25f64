import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The root command: one subcommand per file in this folder; each `run()`
/// parses, calls the library and prints, and throws its failures, which
/// `runMain` maps to exit codes.
public struct TimerCRIU: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "timer-criu",
        abstract: "Checkpoint and restore a Linux process's POSIX timers, on the host kernel or on a model kernel.",
        discussion: TimerCRIUExit.helpText,
        version: version,
        // Each subcommand lives in its own file; add new ones here.
        // In the order of the work: checkpoint, look, restore, measure, explore.
        subcommands: [
            Dump.self,
            Inspect.self,
            Restore.self,
            CRIUCommand.self,
            Compare.self, Calibrate.self,
            Memory.self,
            Check.self,
            Kernels.self,
            Simulate.self,
            SimulateChild.self, RestoreHelperCommand.self,
        ]
    )

    public init() {}

    /// Bare `timer-criu` is a usage error (64), not a help page with exit 0.
    public func run() throws {
        throw ValidationError("missing a subcommand (`timer-criu --help` lists them)")
    }

    /// The tool's entry point: ArgumentParser's, plus what it does not check.
    public static func runMain(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        // A closed stdout is EPIPE for the one output writer, which exits
        // quietly with 141 (README "Exit codes"); the default SIGPIPE would
        // kill the tool before it could end a helper or say anything.
        signal(SIGPIPE, SIG_IGN)
        // `help bogus` would print the root help and exit 0.
        if arguments.first == "help", arguments.count > 1 {
            let names = configuration.subcommands.map { $0._commandName }
            if !names.contains(arguments[1]) {
                exit(withError: ValidationError("unknown subcommand '\(arguments[1])' (`timer-criu --help` lists them)"))
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            // Failures are thrown by the commands and mapped to exit codes here only.
            if let failure = TimerCRIUExit.failure(for: error) { TimerCRIUExit.exit(with: failure) }
            exit(withError: error)
        }
        exit()
    }
}
