import ArgumentParser

/// The root command: one subcommand per file in this folder; `run()`s only
/// wire library calls.
public struct TimerCRIU: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "timer-criu",
        abstract: "Checkpoint and restore a Linux process's POSIX timers, on the host kernel or on a model kernel.",
        version: version,
        // Each subcommand lives in its own file; add new ones here.
        subcommands: [
            Dump.self,
            Simulate.self, SimulateChild.self, Kernels.self,
            Restore.self,
            Inspect.self,
            Check.self,
            Compare.self, Calibrate.self,
            Memory.self,
            CRIUCommand.self,
            RestoreHelper.self,
        ]
    )

    public init() {}
}
