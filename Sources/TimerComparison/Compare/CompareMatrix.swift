import TimerCore
import TimerFormats
/// One process of a tree row (`compare DIR`): how its restore went within the
/// tree's machine.
public struct CompareProcessRow: Sendable {
    public var entry: CheckpointTreeEntry
    /// The pid it got on the model machine.
    public var restoredPID: Int32
    public var usedStrategy: RestoreStrategy
    public var wasRun: Bool
    public var error: RestoreFailure?
    public var syscalls: SyscallCounts
    public var modelNanoseconds: Int64?
    public var projectedNanoseconds: Double
    /// timerfd and itimer syscalls; nil when it had none to restore.
    public var timerFDSyscalls: TimerFDSyscallCounts?

    public var ok: Bool { error == nil }
}

/// One cell of the matrix: a checkpoint restored on one kernel by one strategy.
public struct CompareRow: Sendable {
    public var kernel: String
    /// The strategy asked for (`auto` rows show what it resolved to in `usedStrategy`).
    public var strategy: RestoreStrategy
    public var usedStrategy: RestoreStrategy
    /// False: the row was projected, not run (a dance past the run limit).
    public var wasRun: Bool
    public var error: RestoreFailure?
    public var syscalls: SyscallCounts
    /// Wall time of the model run; nil when not run.
    public var modelNanoseconds: Int64?
    /// syscalls x costs.
    public var projectedNanoseconds: Double
    /// timerfd and itimer syscalls (a tree row: all processes'); nil when
    /// there were none to restore.
    public var timerFDSyscalls: TimerFDSyscallCounts?

    /// Tree rows only: every process, parents first (the counts above are their totals).
    public var processes: [CompareProcessRow] = []
    /// Tree rows only: the process whose failure is `error` (the first that failed).
    public var failedPID: Int32?
    /// Tree rows only: said about the whole row (linux-2.6's shared-ID note).
    public var notes: [String] = []
    /// Whether this row restored a tree (`compare DIR`).
    public var isTree: Bool = false

    public var ok: Bool { error == nil }

    /// "verified", "projected" (not run: nothing was verified), or why it
    /// fails in kernel terms, in a few words. A tree row: "verified (N
    /// processes)", or its first failure and the process.
    public var outcome: String {
        guard let error else {
            let word = wasRun ? "verified" : "projected"
            return isTree ? "\(word) (\(processes.count) processes)" : word
        }
        let reason = CompareRow.shorten(error)
        guard isTree else { return reason }
        let why = "process \(failedPID.map(String.init) ?? "?"): \(reason)"
        return notes.isEmpty ? why : why + " (one ID space: see note)"
    }

    init(kernel: String, strategy: RestoreStrategy, usedStrategy: RestoreStrategy, wasRun: Bool,
         error: RestoreFailure?, syscalls: SyscallCounts, modelNanoseconds: Int64?, projectedNanoseconds: Double) {
        self.kernel = kernel
        self.strategy = strategy
        self.usedStrategy = usedStrategy
        self.wasRun = wasRun
        self.error = error
        self.syscalls = syscalls
        self.modelNanoseconds = modelNanoseconds
        self.projectedNanoseconds = projectedNanoseconds
    }

    /// A failure in a few words (the full message stays in `--json`).
    static func shorten(_ error: RestoreFailure) -> String {
        switch error.code {
        case .strategyUnsupported:
            if let call = error.syscallError {
                if call.syscall.hasPrefix("write") { return "no cursor sysctl (ENOENT)" }
                if call.syscall.hasPrefix("prctl") { return "no create-at-ID: prctl EINVAL" }
            }
            return "unsupported"
        case .idsNotConsecutive:
            // "dance to ID 7: timer_create returned ID 0 where 1 was next: the kernel ..."
            var text = error.message
            if let cut = text.firstRange(of: ": the kernel") { text = String(text[..<cut.lowerBound]) }
            return "IDs reused: " + text.replacing("timer_create returned ", with: "got ")
        case .syscallFailed:
            if let call = error.syscallError {
                return "\(call.syscall)(\(call.timerID.map { "id=\($0)" } ?? "")): \(call.errno.name)"
            }
            return cutAtParenthesis(error.message)
        case .idStolen, .planRefused, .verificationFailed, .interrupted:
            return error.code.rawValue + ": " + cutAtParenthesis(error.message)
        }
    }

    static func cutAtParenthesis(_ text: String) -> String {
        if let cut = text.firstRange(of: " (") { return String(text[..<cut.lowerBound]) }
        return text
    }
}

/// Restores one checkpoint on every kernel by every strategy (the `compare`
/// command's table).
public struct CompareMatrix: Sendable {
    public var rows: [CompareRow]
    public var costs: SyscallCosts
    /// The run limit used (a dance needing more creates was projected).
    public var runLimit: Int64
    public var timerCount: Int
    public var maxID: Int32?
    /// Set when the matrix restored a tree (`compare DIR`): its root and size.
    public var tree: (root: Int32, processes: Int)?
    /// Kernel memory of the restored timers on each kernel, by kernel name
    /// (`memory`'s total bytes, docs/memory.md); empty: no column.
    public var kernelMemoryBytes: [String: Int] = [:]

    /// Dances on counter kernels needing more creates than this are projected
    /// (2^20: about a second of debug-build model time per row).
    public static let defaultRunLimit: Int64 = 1 << 20

    public static let defaultStrategies: [RestoreStrategy] = [.dance, .cursor, .createAtID]

    /// Every machine x strategy, machines outermost; each cell on a fresh
    /// machine (`rebooted`). `runLimit` nil = run everything.
    public static func run<M: TimerMachine>(_ checkpoint: Checkpoint, machines: [M],
                                            strategies: [RestoreStrategy] = defaultStrategies,
                                            costs: SyscallCosts = .measured618,
                                            runLimit: Int64? = defaultRunLimit) -> CompareMatrix {
        let rows = cells(machines, strategies) { row(checkpoint, on: $0, strategy: $1, costs: costs, runLimit: runLimit) }
        return CompareMatrix(rows: rows, costs: costs, runLimit: runLimit ?? -1, timerCount: checkpoint.timers.count,
                             maxID: checkpoint.timers.map(\.id).max())
    }

    /// Every machine x strategy for a whole tree, machines outermost: each
    /// row restores every process on one fresh machine (`treeRow`).
    public static func run<M: TimerMachine>(tree: CheckpointTree, machines: [M],
                                            strategies: [RestoreStrategy] = defaultStrategies,
                                            costs: SyscallCosts = .measured618,
                                            runLimit: Int64? = defaultRunLimit) -> CompareMatrix {
        let rows = cells(machines, strategies) { treeRow(tree, on: $0, strategy: $1, costs: costs, runLimit: runLimit) }
        let ids = tree.checkpoints.flatMap { $0.timers.map(\.id) }
        var matrix = CompareMatrix(rows: rows, costs: costs, runLimit: runLimit ?? -1, timerCount: ids.count,
                                   maxID: ids.max())
        matrix.tree = (tree.index.root, tree.checkpoints.count)
        return matrix
    }

    /// Every machine x strategy, machines outermost.
    static func cells<M: TimerMachine>(_ machines: [M], _ strategies: [RestoreStrategy],
                                       _ cell: (M, RestoreStrategy) -> CompareRow) -> [CompareRow] {
        machines.flatMap { machine in strategies.map { cell(machine, $0) } }
    }

    /// One cell, on a fresh machine like `machine`: run, or (a dance on a
    /// counter kernel past `runLimit` creates) projected.
    public static func row<M: TimerMachine>(_ checkpoint: Checkpoint, on machine: M,
                                            strategy: RestoreStrategy, costs: SyscallCosts,
                                            runLimit: Int64?) -> CompareRow {
        let restore = MachineRestore([checkpoint], on: machine.rebooted())
        let (report, wasRun) = restoreOrProject(restore, 0, options: .init(strategy: strategy), runLimit: runLimit)
        var row = CompareRow(kernel: machine.kernelName, strategy: strategy, usedStrategy: report.strategy,
                             wasRun: wasRun, error: report.error, syscalls: report.syscalls,
                             modelNanoseconds: wasRun ? report.wallNanoseconds : nil,
                             projectedNanoseconds: costs.projectedNanoseconds(report.syscalls, strategy: report.strategy))
        row.timerFDSyscalls = report.timerFDSyscalls
        return row
    }

    /// One cell for a tree: every process on one fresh machine like
    /// `machine` (so linux-2.6's one ID space shows), spawned first, parents
    /// first, so a CPU clock naming another process of the tree maps to its
    /// new pid (`MachineRestore`); then each restored (or its long dance
    /// projected) as `row` does a single checkpoint. The row's counts and
    /// projected time are the processes' totals.
    public static func treeRow<M: TimerMachine>(_ tree: CheckpointTree, on machine: M,
                                                strategy: RestoreStrategy, costs: SyscallCosts,
                                                runLimit: Int64?) -> CompareRow {
        let restore = MachineRestore(tree.checkpoints, on: machine.rebooted())
        var total = TreeRestoreReport(directory: tree.directory, kernel: machine.kernelName, root: tree.index.root)
        var perProcess: [CompareProcessRow] = []
        for (i, entry) in tree.index.processes.enumerated() {
            let (report, wasRun) = restoreOrProject(restore, i, options: .init(strategy: strategy), runLimit: runLimit)
            total.processes.append(TreeProcessReport(entry: entry, report: report))
            var process = CompareProcessRow(
                entry: entry, restoredPID: restore.restoredPID(i), usedStrategy: report.strategy, wasRun: wasRun,
                error: report.error, syscalls: report.syscalls, modelNanoseconds: wasRun ? report.wallNanoseconds : nil,
                projectedNanoseconds: costs.projectedNanoseconds(report.syscalls, strategy: report.strategy))
            process.timerFDSyscalls = report.timerFDSyscalls
            perProcess.append(process)
        }
        let firstFailure = perProcess.first { !$0.ok }
        let allRun = perProcess.allSatisfy(\.wasRun)
        var row = CompareRow(
            kernel: machine.kernelName, strategy: strategy,
            usedStrategy: perProcess.first?.usedStrategy ?? strategy,
            wasRun: allRun, error: firstFailure?.error, syscalls: total.totalSyscalls,
            modelNanoseconds: allRun ? perProcess.reduce(0) { $0 + ($1.modelNanoseconds ?? 0) } : nil,
            projectedNanoseconds: perProcess.reduce(0) { $0 + $1.projectedNanoseconds })
        row.timerFDSyscalls = total.totalTimerFDSyscalls
        row.isTree = true
        row.processes = perProcess
        row.failedPID = firstFailure?.entry.pid
        if machine.globalIDSpace { row.notes = TreeRestore.sharedIDNotes(tree) }
        return row
    }

    /// Checkpoint `index` of a machine restore: restored, or, for a dance on
    /// a counter kernel needing more than `runLimit` creates, projected
    /// (`projectedDance`). Serves single and tree rows alike. `wasRun` false:
    /// the report's counts are projected and its wall time means nothing.
    static func restoreOrProject<M: TimerMachine>(_ restore: MachineRestore<M>, _ index: Int,
                                                  options: Restorer.Options, runLimit: Int64?)
        -> (report: RestoreReport, wasRun: Bool)
    {
        let checkpoint = restore.checkpoints[index]
        let maxID = checkpoint.timers.map(\.id).max() ?? -1
        let used = options.strategy.resolved(offered: restore.restoreInterfaces(index))
        if used == .dance, restore.machine.consecutiveIDs, let runLimit, Int64(maxID) + 1 > runLimit {
            return (projectedDance(restore, index, options: options), false)
        }
        return (restore.report(index, options: options), true)
    }

    /// A dance too long to run. On a counter kernel a dance's steps do not
    /// depend on how wide the gaps between wanted IDs are, only that there is
    /// one: so it runs on a copy of the checkpoint with every gap shrunk to one
    /// ID (same timers, same order, same clocks and sigevents), which shows
    /// whether and where it fails, and the counts are then widened to the real
    /// gaps: (max ID + 1) creates and (max ID + 1 - n) deletes when it
    /// succeeds (docs/kernel-facts.md section 3.1).
    static func projectedDance<M: TimerMachine>(_ restore: MachineRestore<M>, _ index: Int,
                                                options: Restorer.Options) -> RestoreReport {
        let shrunk = DanceShrink(restore.checkpoints[index])
        var danceOptions = options
        danceOptions.strategy = .dance
        var report: RestoreReport
        do { report = try restore.restore(index, replacement: shrunk.checkpoint, options: danceOptions) } catch {
            return error.report(kernel: restore.machine.kernelName, strategy: options.strategy)
        }
        report.requestedStrategy = options.strategy
        report.wallNanoseconds = 0
        // Gaps passed before the failure: all of them, unless a create failed
        // (then its timer's gap was never danced through).
        var failedAt: Int32?
        if let call = report.error?.syscallError, call.syscall == "timer_create" { failedAt = call.timerID }
        let extra = shrunk.extraSteps(before: failedAt)
        report.syscalls.timerCreate += Int(extra)
        report.syscalls.timerDelete += Int(extra)
        if var failure = report.error {
            if var call = failure.syscallError, let id = call.timerID, let real = shrunk.realID(id) {
                call.timerID = real
                failure.syscallError = call
                failure.message = "dance to ID \(real): \(call)"
            } else {
                failure.message = "on a copy with the ID gaps shrunk: " + failure.message
            }
            report.error = failure
        }
        return report
    }
}

/// A checkpoint with every gap between wanted IDs shrunk to at most one ID.
struct DanceShrink {
    var checkpoint: Checkpoint
    /// Ascending real IDs and their shrunk IDs.
    var real: [Int32]
    var shrunk: [Int32]

    init(_ original: Checkpoint) {
        var copy = original
        copy.timers.sort { $0.id < $1.id }
        var real: [Int32] = []
        var shrunk: [Int32] = []
        var previousReal: Int64 = -1
        var previousShrunk: Int64 = -1
        for index in copy.timers.indices {
            let id = Int64(copy.timers[index].id)
            let next = previousShrunk + 1 + (id - previousReal - 1 > 0 ? 1 : 0)
            real.append(Int32(id))
            shrunk.append(Int32(next))
            copy.timers[index].id = Int32(next)
            previousReal = id
            previousShrunk = next
        }
        checkpoint = copy
        self.real = real
        self.shrunk = shrunk
    }

    /// Dance steps (create+delete pairs) the real gaps add over the shrunk ones,
    /// counting the gaps before the timers whose shrunk ID is below `failedAt`
    /// (all when nil).
    func extraSteps(before failedAt: Int32?) -> Int64 {
        var extra: Int64 = 0
        var previousReal: Int64 = -1
        var previousShrunk: Int64 = -1
        for (r, s) in zip(real, shrunk) {
            if let failedAt, s >= failedAt { break }
            extra += (Int64(r) - previousReal) - (Int64(s) - previousShrunk)
            previousReal = Int64(r)
            previousShrunk = Int64(s)
        }
        return extra
    }

    /// The real ID of a shrunk one.
    func realID(_ id: Int32) -> Int32? {
        guard let index = shrunk.firstIndex(of: id) else { return nil }
        return real[index]
    }
}
