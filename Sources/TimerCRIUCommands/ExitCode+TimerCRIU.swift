import HostKernel
import TimerCore
import ArgumentParser

/// The exit codes of every timer-criu command (README "Exit codes" lists them).
public enum TimerCRIUExit {
    /// Success (for restore: restored and verified).
    public static let ok: Int32 = 0
    /// A restore or check that ran but did not succeed (ok: false).
    public static let restoreFailed: Int32 = 1
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

/// Prints `timer-criu: MESSAGE` on stderr and exits with the failure's code.
/// Escaped: a message quoting a file or path stays one line, without
/// terminal escapes.
func fail(_ failure: CommandFailure) -> Never {
    StandardStream.error.write("timer-criu: \(EchoedText.escaped(failure.message))\n")
    Foundation_exit(failure.exitCode)
}

/// Writes an output file through the tool's one writer (HostKernel's
/// OutputFile: `-` is stdout, devices and FIFOs in place, regular files
/// atomically) or fails with exit 73.
func writeOutput(_ bytes: [UInt8], to path: String) {
    do { try OutputFile.write(bytes, to: path) } catch {
        fail(CommandFailure(error.description, exitCode: TimerCRIUExit.cannotWriteOutput))
    }
}
