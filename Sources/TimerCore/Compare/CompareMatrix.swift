/// A kernel `compare` restores on: a name and a way to get a fresh process on a
/// fresh machine. Generic over the kernel type so the model's restores run
/// specialized (no existential per syscall).
public struct CompareKernel<K: TimerKernel> {
    /// Short name for the table, e.g. "linux-6.15".
    public var name: String
    /// Whether a fresh process gets IDs 0, 1, 2, ... from a counter and a
    /// deleted ID does not come back (KERNEL-FACTS section 2). Only then are a
    /// dance's syscall counts known in advance, so a long dance may be projected
    /// instead of run. Where this is false the dance stops at the first hole,
    /// so running it is always cheap.
    public var consecutiveIDs: Bool
    /// A fresh process with `extraThreads` threads besides the main one.
    public var spawn: (_ extraThreads: Int) -> K

    public init(name: String, consecutiveIDs: Bool, spawn: @escaping (_ extraThreads: Int) -> K) {
        self.name = name
        self.consecutiveIDs = consecutiveIDs
        self.spawn = spawn
    }
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

    public var ok: Bool { error == nil }

    /// "verified", or why it fails in kernel terms, in a few words.
    public var outcome: String {
        guard let error else { return "verified" }
        return CompareRow.shorten(error)
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

    /// Dances on counter kernels needing more creates than this are projected
    /// (2^20: about a second of debug-build model time per row).
    public static let defaultRunLimit: Int64 = 1 << 20

    public static let defaultStrategies: [RestoreStrategy] = [.dance, .cursor, .createAtID]

    /// Every kernel x strategy, kernels outermost. `runLimit` nil = run everything.
    public static func run<K: TimerKernel>(_ checkpoint: Checkpoint, kernels: [CompareKernel<K>],
                                           strategies: [RestoreStrategy] = defaultStrategies,
                                           costs: SyscallCosts = .measured618,
                                           runLimit: Int64? = defaultRunLimit) -> CompareMatrix {
        var rows: [CompareRow] = []
        for kernel in kernels {
            for strategy in strategies {
                rows.append(row(checkpoint, on: kernel, strategy: strategy, costs: costs, runLimit: runLimit))
            }
        }
        return CompareMatrix(rows: rows, costs: costs, runLimit: runLimit ?? -1, timerCount: checkpoint.timers.count,
                             maxID: checkpoint.timers.map(\.id).max())
    }

    /// One cell: run, or (a dance on a counter kernel past `runLimit` creates)
    /// projected.
    public static func row<K: TimerKernel>(_ checkpoint: Checkpoint, on kernel: CompareKernel<K>,
                                           strategy: RestoreStrategy, costs: SyscallCosts,
                                           runLimit: Int64?) -> CompareRow {
        let extraThreads = RestorePlan.requiredExtraThreads(for: checkpoint)
        let maxID = checkpoint.timers.map(\.id).max() ?? -1
        let probe = kernel.spawn(extraThreads)
        let used = strategy.resolved(offered: probe.restoreInterfaces)
        if used == .dance, kernel.consecutiveIDs, let runLimit, Int64(maxID) + 1 > runLimit {
            return projectedDance(checkpoint, on: kernel, process: probe, requested: strategy, costs: costs)
        }
        let report = Restorer.restore(checkpoint, into: probe, options: .init(strategy: strategy))
        return CompareRow(kernel: kernel.name, strategy: strategy, usedStrategy: report.strategy, wasRun: true,
                          error: report.error, syscalls: report.syscalls, modelNanoseconds: report.wallNanoseconds,
                          projectedNanoseconds: costs.projectedNanoseconds(report.syscalls, strategy: report.strategy))
    }

    /// A dance too long to run. On a counter kernel a dance's steps do not
    /// depend on how wide the gaps between wanted IDs are, only that there is
    /// one: so it runs on a copy of the checkpoint with every gap shrunk to one
    /// ID (same timers, same order, same clocks and sigevents), which shows
    /// whether and where it fails, and the counts are then widened to the real
    /// gaps: (max ID + 1) creates and (max ID + 1 - n) deletes when it
    /// succeeds (KERNEL-FACTS section 3.1).
    static func projectedDance<K: TimerKernel>(_ checkpoint: Checkpoint, on kernel: CompareKernel<K>, process: K,
                                               requested: RestoreStrategy, costs: SyscallCosts) -> CompareRow {
        let shrunk = DanceShrink(checkpoint)
        let report = Restorer.restore(shrunk.checkpoint, into: process, options: .init(strategy: .dance))
        var counts = report.syscalls
        // Gaps passed before the failure: all of them, unless a create failed
        // (then its timer's gap was never danced through).
        var failedAt: Int32?
        if let call = report.error?.syscallError, call.syscall == "timer_create" { failedAt = call.timerID }
        let extra = shrunk.extraSteps(before: failedAt)
        counts.timerCreate += Int(extra)
        counts.timerDelete += Int(extra)
        var error = report.error
        if var failure = error {
            if var call = failure.syscallError, let id = call.timerID, let real = shrunk.realID(id) {
                call.timerID = real
                failure.syscallError = call
                failure.message = "dance to ID \(real): \(call)"
            } else {
                failure.message = "on a copy with the ID gaps shrunk: " + failure.message
            }
            error = failure
        }
        return CompareRow(kernel: kernel.name, strategy: requested, usedStrategy: .dance, wasRun: false,
                          error: error, syscalls: counts, modelNanoseconds: nil,
                          projectedNanoseconds: costs.projectedNanoseconds(counts, strategy: .dance))
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
