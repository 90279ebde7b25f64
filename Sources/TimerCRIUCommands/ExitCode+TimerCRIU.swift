import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import ArgumentParser

/// The exit codes of every timer-criu command (README "Exit codes" lists them).
public enum TimerCRIUExit {
    /// Success (for restore: restored and verified).
    public static let ok: Int32 = 0
    /// The work ran but did not succeed: a restore that failed or did not
    /// verify, a check saying no, a syscall failing in dump, calibrate or simulate.
    public static let failed: Int32 = 1
    /// Bad input: a checkpoint, CRIU image or script that is refused.
    public static let badInput: Int32 = 2
    /// The process is not there: no such pid, or it exited while being read.
    public static let noSuchProcess: Int32 = 3
    /// Not allowed: reading /proc/PID/timers or ptrace was refused.
    public static let permissionDenied: Int32 = 4
    /// The kernel lacks what is needed (e.g. no /proc/PID/timers).
    public static let kernelUnsupported: Int32 = 5
    /// Usage error (ArgumentParser's ValidationError).
    public static let usage: Int32 = 64
    /// Stopped by SIGINT/SIGTERM.
    public static let interrupted: Int32 = 130
    /// Stdout was closed by its reader (128 + SIGPIPE), written by HostKernel's StandardStream.
    public static let closedPipe: Int32 = StandardStream.closedPipeExitStatus

    /// The one exit-code table: README "Exit codes" is this table (a test
    /// compares them), `timer-criu --help` prints it, and each subcommand's
    /// help names the codes it can return with these meanings.
    public static let table: [(code: Int32, meaning: String)] = [
        (ok, "success (restore: restored and verified; check: dump and restore both work here)"),
        (failed, "the restore ran but failed or did not verify (reason printed in kernel terms); "
            + "an injected syscall failed in `dump --values`; a syscall failed in `calibrate` or in `simulate --kernel host`; "
            + "`check`: dump or restore cannot work here"),
        (badInput, "bad input, refused before any syscall: a checkpoint, CRIU image, costs file or script (one line "
            + "naming the file and field or line), a dead notify thread with `restore --dead-thread-notify fail`, "
            + "a CPU clock of a task outside the restore"),
        (noSuchProcess, "no such process, it exited while being read, the pid is a thread or a kernel thread, "
            + "or its timers kept changing"),
        (permissionDenied, "permission denied (reading /proc/PID/timers, or ptrace for `--values`)"),
        (kernelUnsupported, "the kernel has no /proc/PID/timers, or prints it in a form not understood"),
        (usage, "usage: no or an unknown subcommand, an unknown option or value, conflicting options, "
            + "a pid that is not a number, an empty output path"),
        (cannotWriteOutput, "an output file (`-o`, `--svg`) cannot be written: its errno is named, nothing is left "
            + "behind, and a device, FIFO or symlink there is never replaced"),
        (interrupted, "interrupted (SIGINT or SIGTERM alike): the report so far is printed (JSON with `--json`) "
            + "plus one stderr line; no helper process is left behind"),
        (closedPipe, "stdout was closed by its reader (`dump PID | head -c 10`): the tool stops quietly, as `cat` does"),
    ]

    /// The table as the root command's help prints it.
    public static var helpText: String {
        "Exit codes (every subcommand):\n" + table.map { "\($0.code): \($0.meaning)" }.joined(separator: "\n")
    }
}

/// An error a command reports as one line on stderr with its exit code.
public struct CommandFailure: Error, CustomStringConvertible {
    public var message: String
    public var exitCode: Int32
    public init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }
    public var description: String { message }
}

extension TimerCRIUExit {
    /// The one place a thrown error becomes an exit code and a stderr line:
    /// a `CommandFailure` as it says, a refused input (a checkpoint, CRIU
    /// image or costs file) 2, an output that cannot be written (a file or
    /// a directory) 73; nil for the errors ArgumentParser reports itself
    /// (usage, `ExitCode`, help).
    static func failure(for error: any Error) -> CommandFailure? {
        switch error {
        case let failure as CommandFailure: return failure
        case let refused as CheckpointError: return CommandFailure(refused.description, exitCode: badInput)
        case let refused as CostsFileError: return CommandFailure(refused.description, exitCode: badInput)
        case let unwritable as OutputFileError: return CommandFailure(unwritable.description, exitCode: cannotWriteOutput)
        case let unwritable as TreeWriteError: return CommandFailure(unwritable.description, exitCode: cannotWriteOutput)
        default: return nil
        }
    }

    /// Prints `timer-criu: MESSAGE` on stderr and exits with the failure's
    /// code. Escaped: a message quoting a file or path stays one line,
    /// without terminal escapes.
    static func exit(with failure: CommandFailure) -> Never {
        StandardStream.error.write("timer-criu: \(EchoedText.escaped(failure.message))\n")
        exitProcess(failure.exitCode)
    }
}
