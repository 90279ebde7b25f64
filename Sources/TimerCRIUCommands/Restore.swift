import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
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

    @Argument(help: "A timer-criu/1 JSON checkpoint (- for stdin), a CRIU image directory, a CRIU core-PID.img or a dump --tree directory.")
    var checkpoint: String

    // The value lists come from ArgumentParser ("values: ..."), once.
    @Option(help: "A model kernel profile (see `timer-criu kernels`) or host.")
    var kernel: KernelOption = .model(.linux615)

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
        if into != nil && (hold || kernelWasGiven) {
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

    /// --kernel on the command line (its default is the model).
    var kernelWasGiven: Bool { CommandLine.arguments.contains { $0 == "--kernel" || $0.hasPrefix("--kernel=") } }

    public func run() throws {
        // A tree directory has an index.json, a CRIU image directory none (docs/trees.md).
        let isTree = CheckpointTree.isTreeDirectory(checkpoint) || CheckpointTree.looksLikeTreeWithoutIndex(checkpoint)
        if isTree && into != nil {
            fail(CommandFailure("--into restores one process: \(checkpoint) is a process tree", exitCode: TimerCRIUExit.badInput))
        }
        if isTree { restoreTree() }
        let loaded: Checkpoint
        do { loaded = try CheckpointSource.load(path: checkpoint) } catch {
            fail(CommandFailure(error.description, exitCode: TimerCRIUExit.badInput))
        }
        if let into { restoreInto(loaded, pid: into) }
        switch kernel {
        case .model(let profile):
            let model = ModelKernel(profile: profile)
            // The model's wall clock at the dump's: as if restored at once.
            if let dumped = loaded.dumpClocks { model.setRealtime(dumped.realtimeNanoseconds) }
            // A model dance to a high ID takes a while: progress on a terminal, Ctrl-C stops it.
            StopSignals.catchInterruptAndTerminate()
            let progress = ProgressLine.onStandardError(label: "dance (model)")
            let control = RestoreControl(progress: { progress.update(done: $0, total: $1) },
                                         isCancelled: { StopSignals.received != 0 })
            let report = MachineRestore([loaded], on: model).report(0, options: .init(
                strategy: strategy, deadThreadNotify: deadThreadNotify, control: control))
            progress.finish()
            StandardStream.error.write(report.warningLines())
            let text = json ? String(decoding: report.jsonBytes(), as: UTF8.self) : report.humanText
            StandardStream.output.write(text)
            let code = Restore.exitCode(for: report)
            if code == TimerCRIUExit.interrupted { StandardStream.error.write(StopSignals.interruptionLine) }
            exitProcess(code)
        case .host:
            let outcome = HostRestore.run(.init(checkpoint: loaded, strategy: strategy,
                                                deadThreadNotify: deadThreadNotify, json: json, hold: hold))
            switch outcome {
            case .verified: exitProcess(TimerCRIUExit.ok)
            case .held: exitProcess(TimerCRIUExit.ok)
            case .failed: exitProcess(TimerCRIUExit.failed)
            case .refused: exitProcess(TimerCRIUExit.badInput)
            case .interrupted: exitProcess(TimerCRIUExit.interrupted)
            case .helperLost(let why): fail(CommandFailure(why, exitCode: TimerCRIUExit.failed))
            }
        }
    }

    /// `--into PID`: into a running process (LiveRestore); refusals are one line, exit 1.
    func restoreInto(_ loaded: Checkpoint, pid: Int32) -> Never {
        StopSignals.catchInterruptAndTerminate()
        let request = LiveRestore.Request(
            checkpoint: loaded, pid: pid, strategy: strategy, deadThreadNotify: deadThreadNotify,
            threadMap: threadMap.flatMap(LiveRestore.parseThreadMap) ?? [:],
            control: RestoreControl(isCancelled: { StopSignals.received != 0 }))
        let report: RestoreReport
        do { report = try LiveRestore.run(request) } catch {
            fail(CommandFailure(error.description, exitCode: TimerCRIUExit.failed))
        }
        StandardStream.error.write(report.warningLines())
        let text = json ? String(decoding: report.jsonBytes(), as: UTF8.self) : report.humanText
        StandardStream.output.write(text)
        exitProcess(Restore.exitCode(for: report))
    }

    /// A `timer-criu-tree/1` directory: every process restored, parents
    /// first, reported one by one and in total; exit 0 only if all verified.
    func restoreTree() -> Never {
        let tree: CheckpointTree
        do { tree = try CheckpointTree.load(directory: checkpoint) } catch {
            fail(CommandFailure(error.description, exitCode: TimerCRIUExit.badInput))
        }
        let options = Restorer.Options(strategy: strategy, deadThreadNotify: deadThreadNotify)
        var report: TreeRestoreReport
        var extras: [Int32: [(key: String, rawJSON: String)]] = [:]
        switch kernel {
        case .model(let profile):
            // One machine for the whole tree: on linux-2.6 its processes share one ID space.
            StopSignals.catchInterruptAndTerminate()
            let progress = ProgressLine.onStandardError(label: "dance (model)")
            var modelOptions = options
            modelOptions.control = RestoreControl(progress: { progress.update(done: $0, total: $1) },
                                                  isCancelled: { StopSignals.received != 0 })
            defer { progress.finish() }
            report = TreeRestore.restore(tree, on: ModelKernel(profile: profile), options: modelOptions)
            for p in report.processes { StandardStream.error.write(p.report.warningLines(process: p.entry.pid)) }
        case .host:
            (report, extras) = HostTreeRestore.run(tree, options: options, hold: hold)
        }
        let text = json ? String(decoding: report.jsonBytes(reportExtras: extras), as: UTF8.self) : report.humanText
        StandardStream.output.write(text)
        let codes = report.processes.map { Restore.exitCode(for: $0.report) }
        if codes.contains(TimerCRIUExit.interrupted) {
            if case .model = kernel { StandardStream.error.write(StopSignals.interruptionLine) }
            exitProcess(TimerCRIUExit.interrupted)
        }
        if codes.contains(TimerCRIUExit.failed) { exitProcess(TimerCRIUExit.failed) }
        exitProcess(codes.first { $0 != TimerCRIUExit.ok } ?? TimerCRIUExit.ok)
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
    @Option var process: Int32?

    func run() throws {
        HostRestore.helperMain(parent: parent, strategy: strategy, deadThreadNotify: deadThreadNotify,
                               json: json, hold: hold, process: process)
    }
}

/// A tree restored on the host: one fresh helper per process, one after the
/// other (HostRestore), each asked for its JSON report, which is captured from
/// the helper's stdout and read back so the tree can be printed and added up.
/// Without --hold each helper is killed once verified (its timers go with it);
/// with --hold every verified helper keeps its timers, and if any process fails
/// the helpers already held are killed, so a tree is held whole or not at all.
enum HostTreeRestore {
    static func run(_ tree: CheckpointTree, options: Restorer.Options, hold: Bool)
        -> (TreeRestoreReport, [Int32: [(key: String, rawJSON: String)]])
    {
        let clock = MonotonicClock()
        var result = TreeRestoreReport(directory: tree.directory, kernel: "host", root: tree.index.root)
        var extras: [Int32: [(key: String, rawJSON: String)]] = [:]
        var held: [Int32] = []
        for (entry, checkpoint) in zip(tree.index.processes, tree.checkpoints) {
            var outcome = HostRestore.Outcome.failed
            let captured = captureStandardOutput {
                outcome = HostRestore.run(.init(checkpoint: checkpoint, strategy: options.strategy,
                                                deadThreadNotify: options.deadThreadNotify, json: true, hold: hold,
                                                process: entry.pid))
            }
            var report: RestoreReport
            if let parsed = try? RestoreReport(json: captured) {
                report = parsed
                if result.kernel == "host" { result.kernel = report.kernel }
            } else {
                report = RestoreReport(kernel: "host", strategy: options.strategy, requestedStrategy: options.strategy,
                                       processID: 0, threadIDs: [])
                let why: String
                if case let .helperLost(message) = outcome { why = message } else { why = "restore helper gave no report (\(outcome))" }
                report.error = RestoreFailure(outcome == .interrupted ? .interrupted : .verificationFailed, why)
            }
            var heldPID: Int32?
            if case let .held(pid) = outcome {
                heldPID = pid
                held.append(pid)
                extras[entry.pid] = [("helper_pid", String(pid)), ("held", "true")]
            }
            result.processes.append(TreeProcessReport(entry: entry, report: report, heldPID: heldPID))
            if outcome == .interrupted { break }
        }
        if hold && !held.isEmpty {
            if result.ok {
                result.notes.append("holding: helper pids \(held.map(String.init).joined(separator: " ")) keep the tree's timers until killed (kill \(held.map(String.init).joined(separator: " ")))")
            } else {
                // Held whole or not at all: these are helpers this command started.
                for pid in held { kill(pid, SIGKILL) }
                for i in result.processes.indices { result.processes[i].heldPID = nil }
                extras = [:]
                result.notes.append("not every process verified: killed the \(held.count) helper(s) already holding (pids \(held.map(String.init).joined(separator: " ")))")
            }
        }
        result.wallNanoseconds = clock.elapsed
        return (result, extras)
    }

    /// Runs `body` with fd 1 pointing at a temporary file (the helper inherits
    /// it) and returns what was written there.
    static func captureStandardOutput(_ body: () -> Void) -> [UInt8] {
        var template = Array("/tmp/timer-criu-tree-XXXXXX".utf8CString)
        // Both descriptors close-on-exec: a held helper must not keep our real
        // stdout (a pipe) open, or the reader would never see its end.
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { body(); return [] }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        unlink(String(cString: template))
        let saved = fcntl(1, F_DUPFD_CLOEXEC, 3)
        dup2(fd, 1)
        body()
        dup2(saved, 1)
        close(saved)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        lseek(fd, 0, SEEK_SET)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        close(fd)
        return bytes
    }
}
