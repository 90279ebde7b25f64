import ArgumentParser
import HostKernel
import ModelKernel
import TimerCore

extension RestoreStrategy: ExpressibleByArgument {}
extension DeadThreadNotifyPolicy: ExpressibleByArgument {}

/// `timer-criu restore CHECKPOINT`: restore on a model kernel (default) or the
/// host kernel, by a strategy, and verify through /proc (docs/restore.md).
public struct Restore: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Restore a checkpoint's timers, with the same IDs, on a model kernel or the host, and verify them.",
        discussion: """
            CHECKPOINT is a timer-criu/1 JSON file, a CRIU image directory or a CRIU \
            core-PID.img. The whole checkpoint is validated before any syscall. On a model \
            kernel a fresh model process is created; on the host a fresh helper process. \
            The result is read back from the process's /proc/PID/timers and compared. \
            Exit codes: 0 restored and verified, 1 the restore failed or did not verify \
            (the reason is printed in kernel terms), 2 the checkpoint was refused, \
            64 usage, 130 interrupted.
            """
    )

    @Argument(help: "A timer-criu/1 JSON checkpoint, a CRIU image directory or a CRIU core-PID.img.")
    var checkpoint: String

    @Option(help: "linux-2.6, linux-3.10, linux-6.15, rfd-cursor, rfd-dense (model kernels) or host.")
    var kernel: KernelOption = .model(.linux615)

    @Option(help: "dance, cursor, create-at-id or auto (the cheapest the kernel offers).")
    var strategy: RestoreStrategy = .auto

    @Option(name: .customLong("dead-thread-notify"),
            help: "A thread_id timer whose thread had exited: none (restore as SIGEV_NONE, warn) or fail.")
    var deadThreadNotify: DeadThreadNotifyPolicy = .none

    @Flag(help: "Print one JSON object (docs/restore.md lists its fields).")
    var json = false

    @Flag(help: "Host only: keep the restored helper process (and its timers) until it is killed.")
    var hold = false

    public init() {}

    public func validate() throws {
        if hold && kernel != .host {
            throw ValidationError("--hold needs --kernel host (a model process ends with the command)")
        }
    }

    public func run() throws {
        let loaded: Checkpoint
        do { loaded = try CheckpointSource.load(path: checkpoint) } catch {
            fail(CommandFailure(error.description, exitCode: TimerCRIUExit.badInput))
        }
        switch kernel {
        case .model(let profile):
            let model = ModelKernel(profile: profile)
            let process = model.spawnProcess(extraThreads: RestorePlan.requiredExtraThreads(for: loaded))
            let report = Restorer.restore(loaded, into: process,
                                          options: .init(strategy: strategy, deadThreadNotify: deadThreadNotify))
            let text = json ? String(decoding: report.jsonBytes(), as: UTF8.self) : report.humanText
            FileHandleOutput.standardOutput.write(text)
            Foundation_exit(Restore.exitCode(for: report))
        case .host:
            let outcome = HostRestore.run(.init(checkpoint: loaded, strategy: strategy,
                                                deadThreadNotify: deadThreadNotify, json: json, hold: hold))
            switch outcome {
            case .verified: Foundation_exit(TimerCRIUExit.ok)
            case .held: Foundation_exit(TimerCRIUExit.ok)
            case .failed: Foundation_exit(TimerCRIUExit.restoreFailed)
            case .refused: Foundation_exit(TimerCRIUExit.badInput)
            case .interrupted: Foundation_exit(TimerCRIUExit.interrupted)
            case .helperLost(let why): fail(CommandFailure(why, exitCode: TimerCRIUExit.restoreFailed))
            }
        }
    }

    static func exitCode(for report: RestoreReport) -> Int32 {
        switch report.error?.code {
        case nil: return TimerCRIUExit.ok
        case .planRefused?: return TimerCRIUExit.badInput
        case .interrupted?: return TimerCRIUExit.interrupted
        default: return TimerCRIUExit.restoreFailed
        }
    }
}

/// The helper process a host restore starts (`HostRestore`); not for people.
struct RestoreHelper: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: HostRestore.helperCommand, abstract: "Internal: the host restore's helper process.",
        shouldDisplay: false)

    @Option var parent: Int32
    @Option var strategy: RestoreStrategy
    @Option(name: .customLong("dead-thread-notify")) var deadThreadNotify: DeadThreadNotifyPolicy
    @Flag var json = false
    @Flag var hold = false

    func run() throws {
        HostRestore.helperMain(parent: parent, strategy: strategy, deadThreadNotify: deadThreadNotify,
                               json: json, hold: hold)
    }
}
