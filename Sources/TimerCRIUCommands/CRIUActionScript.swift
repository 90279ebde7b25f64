import ArgumentParser
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison

#if canImport(Glibc)
import Glibc
#endif

/// `timer-criu criu action-script`: CRIU's --action-script for a directory
/// `criu strip` wrote; puts the timers back once the restored tasks run.
public struct CRIUActionScriptCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "action-script",
        abstract: "CRIU's --action-script for a directory written by criu strip: puts its timers back after the restore.",
        discussion: """
            Run by `criu restore -D OUT --action-script SCRIPT`, where SCRIPT is an executable \
            file running `exec timer-criu criu action-script` (CRIU executes the path it is given, \
            without a shell). Reads CRTOOLS_SCRIPT_ACTION, CRTOOLS_INIT_PID and CRTOOLS_IMAGE_DIR. \
            post-restore: reads OUT/timer-criu.json and finds every process and thread its timers \
            need among the restored tasks (a failure aborts the restore). post-resume: puts the \
            timers into the running tasks with restore --into, create-at-ID where the kernel has it. \
            Every other action: nothing. One line for CRIU's log; exit 0, or 1 when the timers \
            could not be put back (docs/criu-images.md).
            """
    )

    public init() {}

    public func run() throws {
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        let action = environment["CRTOOLS_SCRIPT_ACTION"] ?? "action-script"
        do {
            let outcome = try CRIUActionScript.run(environment: environment) { checkpoint, target throws(CRIUActionError) in
                try LiveTimerInjection.inject(checkpoint, into: target)
            }
            if let message = outcome.message { StandardStream.error.write("timer-criu: \(action): \(message)\n") }
        } catch {
            throw CommandFailure("\(action): \(error.message)", exitCode: TimerCRIUExit.failed)
        }
    }
}

/// Puts a checkpoint's timers into a running process: `restore --into`
/// (LiveRestore), its threads mapped by the ids CRIU restored them with.
enum LiveTimerInjection {
    static func inject(_ checkpoint: Checkpoint, into target: CRIURestoredProcess) throws(CRIUActionError) {
        var threadMap: [Int32: Int32] = [:]
        for tid in checkpoint.threads where tid != checkpoint.pid {
            if let restored = target.threads[tid] { threadMap[tid] = restored }
        }
        let report: RestoreReport
        do { report = try LiveRestore.run(LiveRestore.Request(checkpoint: checkpoint, pid: target.pid, threadMap: threadMap)) } catch {
            throw CRIUActionError("process \(target.pid) (\(checkpoint.pid) in the checkpoint): \(error.description)")
        }
        if let error = report.error {
            throw CRIUActionError("process \(target.pid) (\(checkpoint.pid) in the checkpoint): \(error.message)")
        }
    }
}
