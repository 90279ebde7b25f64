import TimerCore
import TimerFormats
/// A kernel `compare` restores on: a name and a way to get a fresh process on a
/// fresh machine. Generic over the kernel type so the model's restores run
/// specialized (no existential per syscall).
public struct CompareKernel<K: TimerKernel> {
    /// Short name for the table, e.g. "linux-6.15".
    public var name: String
    /// Whether a fresh process gets IDs 0, 1, 2, ... from a counter and a
    /// deleted ID does not come back (docs/kernel-facts.md section 2). Only then are a
    /// dance's syscall counts known in advance, so a long dance may be projected
    /// instead of run. Where this is false the dance stops at the first hole,
    /// so running it is always cheap.
    public var consecutiveIDs: Bool
    /// A fresh process with `extraThreads` threads besides the main one.
    public var spawn: (_ extraThreads: Int) -> K
    /// One ID space for all processes of a machine (linux-2.6, docs/kernel-facts.md
    /// section 2): a tree whose processes share an ID cannot come back whole.
    public var globalIDSpace: Bool
    /// A fresh machine, as a spawner of processes that all live on it (a tree
    /// row restores every process into one machine). Default: `spawn`, i.e.
    /// every process on a machine of its own.
    public var machine: () -> (_ extraThreads: Int) -> K

    public init(name: String, consecutiveIDs: Bool, globalIDSpace: Bool = false,
                spawn: @escaping (_ extraThreads: Int) -> K,
                machine: (() -> (_ extraThreads: Int) -> K)? = nil) {
        self.name = name
        self.consecutiveIDs = consecutiveIDs
        self.globalIDSpace = globalIDSpace
        self.spawn = spawn
        self.machine = machine ?? { spawn }
    }
}

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

    /// Every kernel x strategy, kernels outermost. `runLimit` nil = run everything.
    public static func run<K: TimerKernel>(_ checkpoint: Checkpoint, kernels: [CompareKernel<K>],
                                           strategies: [RestoreStrategy] = defaultStrategies,
                                           costs: SyscallCosts = .measured618,
                                           runLimit: Int64? = defaultRunLimit) -> CompareMatrix {
        let rows = cells(kernels, strategies) { row(checkpoint, on: $0, strategy: $1, costs: costs, runLimit: runLimit) }
        return CompareMatrix(rows: rows, costs: costs, runLimit: runLimit ?? -1, timerCount: checkpoint.timers.count,
                             maxID: checkpoint.timers.map(\.id).max())
    }

    /// Every kernel x strategy for a whole tree, kernels outermost: each row
    /// restores every process on one fresh machine (`treeRow`).
    public static func run<K: TimerKernel>(tree: CheckpointTree, kernels: [CompareKernel<K>],
                                           strategies: [RestoreStrategy] = defaultStrategies,
                                           costs: SyscallCosts = .measured618,
                                           runLimit: Int64? = defaultRunLimit) -> CompareMatrix {
        let rows = cells(kernels, strategies) { treeRow(tree, on: $0, strategy: $1, costs: costs, runLimit: runLimit) }
        let ids = tree.checkpoints.flatMap { $0.timers.map(\.id) }
        var matrix = CompareMatrix(rows: rows, costs: costs, runLimit: runLimit ?? -1, timerCount: ids.count,
                                   maxID: ids.max())
        matrix.tree = (tree.index.root, tree.checkpoints.count)
        return matrix
    }

    /// Every kernel x strategy, kernels outermost.
    static func cells<K: TimerKernel>(_ kernels: [CompareKernel<K>], _ strategies: [RestoreStrategy],
                                      _ cell: (CompareKernel<K>, RestoreStrategy) -> CompareRow) -> [CompareRow] {
        kernels.flatMap { kernel in strategies.map { cell(kernel, $0) } }
    }

    /// One cell: run, or (a dance on a counter kernel past `runLimit` creates)
    /// projected.
    public static func row<K: TimerKernel>(_ checkpoint: Checkpoint, on kernel: CompareKernel<K>,
                                           strategy: RestoreStrategy, costs: SyscallCosts,
                                           runLimit: Int64?) -> CompareRow {
        let probe = kernel.spawn(RestorePlan.requiredExtraThreads(for: checkpoint))
        let (report, wasRun) = restoreOrProject(checkpoint, into: probe, consecutiveIDs: kernel.consecutiveIDs,
                                                options: .init(strategy: strategy), runLimit: runLimit)
        return CompareRow(kernel: kernel.name, strategy: strategy, usedStrategy: report.strategy, wasRun: wasRun,
                          error: report.error, syscalls: report.syscalls,
                          modelNanoseconds: wasRun ? report.wallNanoseconds : nil,
                          projectedNanoseconds: costs.projectedNanoseconds(report.syscalls, strategy: report.strategy))
    }

    /// One cell for a tree: every process spawned on one fresh machine of the
    /// kernel (so linux-2.6's one ID space shows), parents first, then each
    /// restored (or its long dance projected) as `row` does a single
    /// checkpoint. Spawning all first lets a CPU clock naming another process
    /// of the tree be mapped to its new pid, as `TreeRestore` does. The row's
    /// counts and projected time are the processes' totals.
    public static func treeRow<K: TimerKernel>(_ tree: CheckpointTree, on kernel: CompareKernel<K>,
                                               strategy: RestoreStrategy, costs: SyscallCosts,
                                               runLimit: Int64?) -> CompareRow {
        let spawn = kernel.machine()
        let processes = tree.checkpoints.map { spawn(RestorePlan.requiredExtraThreads(for: $0)) }
        var pidMap: [Int32: Int32] = [:]
        for (checkpoint, process) in zip(tree.checkpoints, processes) { pidMap[checkpoint.pid] = process.processID }
        var total = TreeRestoreReport(directory: tree.directory, kernel: kernel.name, root: tree.index.root)
        var perProcess: [CompareProcessRow] = []
        for (i, entry) in tree.index.processes.enumerated() {
            let options = Restorer.Options(strategy: strategy, otherPIDs: pidMap.filter { $0.key != entry.pid })
            let (report, wasRun) = restoreOrProject(tree.checkpoints[i], into: processes[i],
                                                    consecutiveIDs: kernel.consecutiveIDs,
                                                    options: options, runLimit: runLimit)
            total.processes.append(TreeProcessReport(entry: entry, report: report))
            perProcess.append(CompareProcessRow(
                entry: entry, restoredPID: processes[i].processID, usedStrategy: report.strategy, wasRun: wasRun,
                error: report.error, syscalls: report.syscalls, modelNanoseconds: wasRun ? report.wallNanoseconds : nil,
                projectedNanoseconds: costs.projectedNanoseconds(report.syscalls, strategy: report.strategy)))
        }
        withExtendedLifetime(processes) {}
        let firstFailure = perProcess.first { !$0.ok }
        let allRun = perProcess.allSatisfy(\.wasRun)
        var row = CompareRow(
            kernel: kernel.name, strategy: strategy,
            usedStrategy: perProcess.first?.usedStrategy ?? strategy,
            wasRun: allRun, error: firstFailure?.error, syscalls: total.totalSyscalls,
            modelNanoseconds: allRun ? perProcess.reduce(0) { $0 + ($1.modelNanoseconds ?? 0) } : nil,
            projectedNanoseconds: perProcess.reduce(0) { $0 + $1.projectedNanoseconds })
        row.isTree = true
        row.processes = perProcess
        row.failedPID = firstFailure?.entry.pid
        if kernel.globalIDSpace { row.notes = TreeRestore.sharedIDNotes(tree) }
        return row
    }

    /// One checkpoint into one fresh process: restored, or, for a dance on a
    /// counter kernel needing more than `runLimit` creates, projected
    /// (`projectedDance`). Serves single and tree rows alike. `wasRun` false:
    /// the report's counts are projected and its wall time means nothing.
    static func restoreOrProject<K: TimerKernel>(_ checkpoint: Checkpoint, into process: K, consecutiveIDs: Bool,
                                                 options: Restorer.Options, runLimit: Int64?)
        -> (report: RestoreReport, wasRun: Bool)
    {
        let maxID = checkpoint.timers.map(\.id).max() ?? -1
        let used = options.strategy.resolved(offered: process.restoreInterfaces)
        if used == .dance, consecutiveIDs, let runLimit, Int64(maxID) + 1 > runLimit {
            return (projectedDance(checkpoint, into: process, options: options), false)
        }
        return (Restorer.restore(checkpoint, into: process, options: options), true)
    }

    /// A dance too long to run. On a counter kernel a dance's steps do not
    /// depend on how wide the gaps between wanted IDs are, only that there is
    /// one: so it runs on a copy of the checkpoint with every gap shrunk to one
    /// ID (same timers, same order, same clocks and sigevents), which shows
    /// whether and where it fails, and the counts are then widened to the real
    /// gaps: (max ID + 1) creates and (max ID + 1 - n) deletes when it
    /// succeeds (docs/kernel-facts.md section 3.1).
    static func projectedDance<K: TimerKernel>(_ checkpoint: Checkpoint, into process: K,
                                               options: Restorer.Options) -> RestoreReport {
        let shrunk = DanceShrink(checkpoint)
        var danceOptions = options
        danceOptions.strategy = .dance
        var report = Restorer.restore(shrunk.checkpoint, into: process, options: danceOptions)
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
