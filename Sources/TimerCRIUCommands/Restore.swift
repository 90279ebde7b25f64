import ArgumentParser
import HostKernel
import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison

extension RestoreStrategy: ExpressibleByArgument {}
extension DeadThreadNotifyPolicy: ExpressibleByArgument {}

/// `timer-criu restore CHECKPOINT`: restore on a model kernel (default) or the
/// host kernel, by a strategy, and verify through /proc (docs/restore.md).
public struct Restore: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Restore a checkpoint's timers, with the same IDs, on a model kernel or the host, and verify them.",
        discussion: """
            CHECKPOINT is a timer-criu/1 JSON file, a CRIU image directory or a CRIU \
            core-PID.img, or a timer-criu-tree/1 directory from `dump --tree` (every \
            process restored, parents first; docs/trees.md). The whole checkpoint is validated before any syscall. On a model \
            kernel a fresh model process is created; on the host a fresh helper process. \
            The result is read back from the process's /proc/PID/timers and compared. \
            Exit codes: 0 restored and verified, 1 the restore ran but failed or did not \
            verify (the reason is printed in kernel terms), 2 the checkpoint was refused \
            before any syscall (unreadable or malformed, a dead notify thread with \
            --dead-thread-notify fail, a CPU clock of a task outside the restore), \
            64 usage, 130 interrupted (SIGINT or SIGTERM: the report is still printed), \
            141 stdout was closed by its reader.
            """
    )

    @OptionGroup var input: CheckpointArgument

    @OptionGroup var kernelOptions: KernelOptions
    var kernel: KernelOption { kernelOptions.kernel }

    @Option(help: "How to get the IDs back; auto: the cheapest the kernel offers.")
    var strategy: RestoreStrategy = .auto

    @Option(name: .customLong("dead-thread-notify"),
            help: ArgumentHelp("A thread_id timer whose thread had exited: none restores it as SIGEV_NONE and warns, fail refuses the checkpoint (exit 2).", valueName: "policy"))
    var deadThreadNotify: DeadThreadNotifyPolicy = .none

    @Flag(help: "Print one JSON object (docs/restore.md lists its fields).")
    var json = false

    @Flag(help: "Host only: keep the restored helper process (and its timers) until it is killed.")
    var hold = false

    @Option(help: ArgumentHelp("Restore into this running process instead of a fresh one: its own threads make the syscalls (ptrace injection, x86-64; docs/restore-into.md).", valueName: "pid"))
    var into: Int32?

    @Option(name: .customLong("thread-map"),
            help: ArgumentHelp("With --into: checkpoint thread <old> onto target thread <new> (default: in order, main onto main).", valueName: "old=new,..."))
    var threadMap: String?

    public init() {}

    public func validate() throws {
        if into != nil && (hold || kernelOptions.wasGiven) {
            throw ValidationError("--into restores into a running process on this host: it takes neither --kernel nor --hold")
        }
        if threadMap != nil && into == nil { throw ValidationError("--thread-map needs --into PID") }
        if let threadMap, LiveRestore.parseThreadMap(threadMap) == nil {
            throw ValidationError("--thread-map '\(threadMap)': expected OLD=NEW pairs of thread ids, separated by commas, each OLD once")
        }
        if hold && kernel != .host {
            throw ValidationError("--hold needs --kernel host (a model process ends with the command)")
        }
    }

    public func run() throws {
        // `--into`: all or nothing even if this process is killed. A detached
        // worker (the same command line in a session of its own) reads the
        // checkpoint, restores and prints the report (docs/restore-into.md);
        // this process only waits for it. Started before anything is read, so
        // the checkpoint is read once, by the one who restores it (stdin too).
        if into != nil && !DetachedWorker.isWorker {
            let status: Int32
            do { status = try DetachedWorker.run() } catch {
                throw CommandFailure(error.description, exitCode: TimerCRIUExit.failed)
            }
            if status != 0 { throw ExitCode(status) }
            return
        }
        let loaded: Checkpoint
        switch try input.load() {
        case .tree(let tree):
            if into != nil {
                throw CommandFailure("--into restores one process: \(input.checkpoint) is a process tree", exitCode: TimerCRIUExit.badInput)
            }
            return try restoreTree(tree)
        case .single(let checkpoint): loaded = checkpoint
        }
        if let into { return try restoreInto(loaded, pid: into) }
        switch kernel {
        case .model(let profile):
            let model = ModelKernel(profile: profile)
            // The model's wall clock at the dump's: as if restored at once.
            if let dumped = loaded.dumpClocks { model.setRealtime(dumped.realtimeNanoseconds) }
            try restoreOne(loaded, on: model, progress: modelProgress())
        case .host:
            // The helper draws its own progress line.
            try restoreOne(loaded, on: HostMachine(hold: hold), progress: nil)
        }
    }

    /// A model dance to a high ID takes a while: progress on a terminal.
    func modelProgress() -> ProgressLine { ProgressLine.onStandardError(label: "dance (model)") }

    /// The options of every process; Ctrl-C and SIGTERM stop the restore
    /// (on the host the helper watches for them itself).
    func options(progress: ProgressLine?) -> Restorer.Options {
        let control = RestoreControl(progress: progress.map { line in { line.update(done: $0, total: $1) } },
                                     isCancelled: { StopSignals.received != 0 })
        return Restorer.Options(strategy: strategy, deadThreadNotify: deadThreadNotify, control: control)
    }

    /// One checkpoint into a fresh process of `machine`; the report printed here.
    func restoreOne<M: TimerMachine>(_ loaded: Checkpoint, on machine: M, progress: ProgressLine?) throws {
        StopSignals.catchInterruptAndTerminate()
        let restore = MachineRestore([loaded], on: machine)
        let report: RestoreReport
        do { report = try restore.restore(0, options: options(progress: progress)) } catch {
            progress?.finish()
            throw CommandFailure(error.message, exitCode: error.interrupted ? TimerCRIUExit.interrupted : TimerCRIUExit.failed)
        }
        progress?.finish()
        StandardStream.error.write(report.warningLines())
        // Host: the helper's pid, and whether it holds the timers.
        let helper = (try? restore.processes[0].get()) as? RestoreHelperProcess
        if json {
            var extra: [(key: String, rawJSON: String)] = []
            if let helper {
                extra.append(("helper_pid", String(helper.processID)))
                if hold { extra.append(("held", String(helper.heldPID != nil))) }
            }
            StandardStream.output.write(String(decoding: report.jsonBytes(extra: extra), as: UTF8.self))
        } else {
            StandardStream.output.write(report.humanText)
            if let held = helper?.heldPID {
                StandardStream.output.write("holding: helper pid \(held) keeps the timers until killed (kill \(held))\n")
            }
        }
        if (machine as? HostMachine)?.stoppedAfterReport == true { throw ExitCode(TimerCRIUExit.interrupted) }
        let code = Restore.exitCode(for: report)
        if code == TimerCRIUExit.interrupted { StandardStream.error.write(StopSignals.interruptionLine) }
        if code != TimerCRIUExit.ok { throw ExitCode(code) }
    }

    /// `--into PID` (in the detached worker): into a running process
    /// (LiveRestore), a machine of one process; refusals are one line, exit 1.
    func restoreInto(_ loaded: Checkpoint, pid: Int32) throws {
        let machine = LiveMachine(pid: pid, threadMap: threadMap.flatMap(LiveRestore.parseThreadMap) ?? [:])
        try restoreOne(loaded, on: machine, progress: nil)
    }

    /// A `timer-criu-tree/1` directory: every process restored, parents
    /// first, reported one by one and in total; exit 0 only if all verified.
    func restoreTree(_ tree: CheckpointTree) throws {
        switch kernel {
        // One machine for the whole tree: on linux-2.6 its processes share one ID space.
        case .model(let profile): try restoreTree(tree, on: ModelKernel(profile: profile), progress: modelProgress())
        case .host: try restoreTree(tree, on: HostMachine(hold: hold), progress: nil)
        }
    }

    func restoreTree<M: TimerMachine>(_ tree: CheckpointTree, on machine: M, progress: ProgressLine?) throws {
        StopSignals.catchInterruptAndTerminate()
        var report = TreeRestore.restore(tree, on: machine, options: options(progress: progress))
        progress?.finish()
        for p in report.processes { StandardStream.error.write(p.report.warningLines(process: p.entry.pid)) }
        var extras: [Int32: [(key: String, rawJSON: String)]] = [:]
        if let host = machine as? HostMachine {
            // Held whole or not at all; a helper's pid is its process's restored pid.
            if let note = host.keepHeld(allVerified: report.ok) { report.notes.append(note) }
            for i in report.processes.indices where host.heldPIDs.contains(report.processes[i].report.processID) {
                let pid = report.processes[i].report.processID
                report.processes[i].heldPID = pid
                extras[report.processes[i].entry.pid] = [("helper_pid", String(pid)), ("held", "true")]
            }
        }
        let text = json ? String(decoding: report.jsonBytes(reportExtras: extras), as: UTF8.self) : report.humanText
        StandardStream.output.write(text)
        let codes = report.processes.map { Restore.exitCode(for: $0.report) }
        if codes.contains(TimerCRIUExit.interrupted) || (machine as? HostMachine)?.stoppedAfterReport == true {
            if codes.contains(TimerCRIUExit.interrupted) { StandardStream.error.write(StopSignals.interruptionLine) }
            throw ExitCode(TimerCRIUExit.interrupted)
        }
        if codes.contains(TimerCRIUExit.failed) { throw ExitCode(TimerCRIUExit.failed) }
        if let code = codes.first(where: { $0 != TimerCRIUExit.ok }) { throw ExitCode(code) }
    }

    static func exitCode(for report: RestoreReport) -> Int32 {
        switch report.error?.code {
        case nil: return TimerCRIUExit.ok
        case .planRefused?: return TimerCRIUExit.badInput
        case .interrupted?: return TimerCRIUExit.interrupted
        default: return TimerCRIUExit.failed
        }
    }
}

/// The helper process a host restore starts (`HostMachine`); not for people.
struct RestoreHelperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: RestoreHelper.command, abstract: "Internal: the host restore's helper process.",
        shouldDisplay: false)

    @Option var parent: Int32
    @Option var threads: Int

    func run() throws { RestoreHelper.main(parent: parent, threads: threads) }
}
