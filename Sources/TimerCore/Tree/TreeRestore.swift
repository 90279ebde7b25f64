/// One process of a tree restore: its index entry and its restore report.
public struct TreeProcessReport: Sendable {
    public var entry: CheckpointTreeEntry
    public var report: RestoreReport
    /// Host only: the helper that keeps this process's timers (`--hold`).
    public var heldPID: Int32?

    public init(entry: CheckpointTreeEntry, report: RestoreReport, heldPID: Int32? = nil) {
        self.entry = entry
        self.report = report
        self.heldPID = heldPID
    }
}

/// The outcome of restoring a whole tree: a report per process (parents
/// first) and the totals.
public struct TreeRestoreReport: Sendable {
    public var directory: String
    public var kernel: String
    public var root: Int32
    public var processes: [TreeProcessReport]
    public var wallNanoseconds: Int64 = 0
    /// Said once under the per-process reports (e.g. what happened to held helpers).
    public var notes: [String] = []

    public init(directory: String, kernel: String, root: Int32, processes: [TreeProcessReport] = []) {
        self.directory = directory
        self.kernel = kernel
        self.root = root
        self.processes = processes
    }

    /// Every process restored and verified.
    public var ok: Bool { processes.allSatisfy(\.report.ok) }
    public var verifiedCount: Int { processes.filter(\.report.ok).count }

    /// The syscalls of all processes added up.
    public var totalSyscalls: SyscallCounts {
        processes.reduce(SyscallCounts()) { $0 + $1.report.syscalls }
    }

    /// The timerfd and itimer syscalls of all processes added up; nil when
    /// no process had any to restore (as a single report's `timerFDSyscalls`).
    public var totalTimerFDSyscalls: TimerFDSyscallCounts? {
        let counted = processes.compactMap(\.report.timerFDSyscalls)
        return counted.isEmpty ? nil : counted.reduce(TimerFDSyscallCounts(), +)
    }

    public var totalTimers: Int { processes.reduce(0) { $0 + $1.report.timers.count } }
}

/// Restores every process of a tree into fresh processes of one machine.
public enum TreeRestore {
    /// All processes are spawned first, parents before children, so that a
    /// CPU clock naming another process of the tree (a parent timing a child)
    /// can be mapped to that process's new pid (`MachineRestore`); then each
    /// is restored in the same order. A process whose restore fails does not
    /// stop the others: the report shows every one. On a machine with one ID
    /// space (linux-2.6) the report's notes name the IDs processes shared.
    public static func restore<M: TimerMachine>(_ tree: CheckpointTree, on machine: M,
                                                options: Restorer.Options = .init()) -> TreeRestoreReport {
        let clock = MonotonicClock()
        let restore = MachineRestore(tree.checkpoints, on: machine)
        var result = TreeRestoreReport(directory: tree.directory, kernel: machine.kernelName, root: tree.index.root)
        for (i, entry) in tree.index.processes.enumerated() {
            let report = restore.report(i, options: options)
            if i == 0 { result.kernel = report.kernel }
            result.processes.append(TreeProcessReport(entry: entry, report: report))
            if report.error?.code == .interrupted { break }  // Ctrl-C stops the whole tree
        }
        if machine.globalIDSpace { result.notes += sharedIDNotes(tree) }
        result.wallNanoseconds = clock.elapsed
        return result
    }

    /// For a kernel with one ID space for all processes (linux-2.6,
    /// docs/kernel-facts.md section 2): the IDs that more than one process of the tree
    /// had. Only one process can hold each, so the others cannot get theirs
    /// back, whatever the strategy.
    public static func sharedIDNotes(_ tree: CheckpointTree) -> [String] {
        var holders: [Int32: [Int32]] = [:]
        for checkpoint in tree.checkpoints {
            for timer in checkpoint.timers { holders[timer.id, default: []].append(checkpoint.pid) }
        }
        let shared = holders.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }
        guard !shared.isEmpty else { return [] }
        let listed = shared.prefix(5).map { id, pids in
            "ID \(id) (processes \(pids.map { String($0) }.joined(separator: ", ")))"
        }.joined(separator: "; ")
        return ["one ID space for all processes: \(shared.count) timer ID(s) were held by more than one process "
            + "of the tree, and only one process can have each: \(listed)" + (shared.count > 5 ? "; ..." : "")]
    }
}
