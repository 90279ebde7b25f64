import TimerCore
import TimerFormats
extension SyscallCosts {
    /// One line naming the figures, for the foot of tables.
    public var summaryLine: String {
        "costs (\(source)): " + figures.map { "\($0.name) \(SyscallCosts.formatNumber($0.nanoseconds)) ns" }
            .joined(separator: ", ")
    }

}

extension CompareMatrix {
    /// The table `compare` prints, and the lines under it.
    public func text(checkpointName: String) -> String {
        // KMEM (kernel memory of the restored timers) beside the syscalls, when known.
        let memory = !kernelMemoryBytes.isEmpty
        // TIMERFD (timerfd and itimer syscalls) only where some were made: a
        // CRIU checkpoint's disarmed itimers alone add no column.
        let timerFDs = rows.contains { ($0.timerFDSyscalls?.total ?? 0) > 0 }
        let numbers = ["CREATE", "DELETE", "SETTIME", "PRCTL", "SYSCTL"] + (timerFDs ? ["TIMERFD"] : [])
            + (memory ? ["KMEM"] : []) + ["MODEL", "PROJECTED"]
        var table = TextTable(headers: ["KERNEL", "STRATEGY", "RUN"] + numbers + ["OUTCOME"],
                              rightAligned: Set(3..<(3 + numbers.count)))
        for row in rows {
            let strategy = row.strategy == .auto ? "auto=\(row.usedStrategy.rawValue)" : row.strategy.rawValue
            table.rows.append([
                row.kernel, strategy, row.wasRun ? "run" : "projected",
                String(row.syscalls.timerCreate), String(row.syscalls.timerDelete), String(row.syscalls.timerSettime),
                String(row.syscalls.prctl), String(row.syscalls.sysctlWrite),
            ] + (timerFDs ? [String(row.timerFDSyscalls?.total ?? 0)] : []) + (memory ? [kernelMemoryBytes[row.kernel].map { ByteText.size(Double($0)) } ?? "-"] : []) + [
                row.modelNanoseconds.map { DurationText.estimate($0) } ?? "-",
                DurationText.estimate(rounding: row.projectedNanoseconds), row.outcome,
            ])
        }
        let idText = maxID.map { "highest ID \($0)" } ?? "no timers"
        let what = tree.map { "tree \(checkpointName): \($0.processes) process(es), root \($0.root), " }
            ?? "\(checkpointName): "
        var lines = [what + "\(timerCount) timer(s), \(idText)", "", table.text]
        if tree != nil {
            lines.append("Each row restores every process on one fresh machine of that kernel; counts and times are "
                + "the tree's totals (--json: per process).")
        }
        lines.append("MODEL = wall time of the model restore; PROJECTED = wall time of a real restore (syscalls x per-syscall wall-time costs).")
        if timerFDs {
            lines.append("TIMERFD = timerfd and itimer syscalls (timerfd_create, dup2, close, timerfd_settime, ioctl, "
                + "setitimer; --json: by kind), not in PROJECTED.")
        }
        if memory {
            lines.append("KMEM = kernel memory the checkpoint's timers take on that kernel, whatever the strategy "
                + "(struct k_itimer, sigqueue, ID-index nodes: timer-criu memory).")
        }
        // A note said once per kernel (every row of linux-2.6 carries the same one).
        var noted = Set<String>()
        for row in rows {
            for note in row.notes where noted.insert(row.kernel + "\u{0}" + note).inserted {
                lines.append("note (\(row.kernel)): \(note)")
            }
        }
        let projected = rows.filter { !$0.wasRun }
        if !projected.isEmpty {
            lines.append("projected, not run: \(projected.count) dance row(s) needing more than \(runLimit) creates; "
                + "their counts are exact ((max ID + 1) creates, (max ID + 1 - n) deletes), checked by a dance with "
                + "the ID gaps shrunk; --run-all runs them.")
        }
        lines.append(costs.summaryLine)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The same rows as one JSON object (docs/compare.md).
    public func json(checkpointName: String) -> String {
        var members: [(key: String, value: JSONOutput)] = [
            ("checkpoint", .string(checkpointName)),
            ("timers", .integer(timerCount)),
            ("max_id", .optional(maxID)),
            ("run_limit", runLimit < 0 ? .null : .integer(runLimit)),
        ]
        if let tree { members.append(("tree", .object([("root", .integer(tree.root)), ("processes", .integer(tree.processes))]))) }
        members.append(("costs", costs.json))
        if !kernelMemoryBytes.isEmpty {
            members.append(("kernel_memory_bytes", .object(kernelMemoryBytes.keys.sorted().map { ($0, .integer(kernelMemoryBytes[$0]!)) })))
        }
        members.append(("rows", .array(rows.map(\.json), .lines)))
        return JSONOutput.object(members, .lines).documentText
    }
}

extension CompareRow {
    /// One row of `--json`; a tree row has its processes on lines of their own.
    var json: JSONOutput {
        var members: [(key: String, value: JSONOutput)] = [
            ("kernel", .string(kernel)), ("strategy", .string(strategy.rawValue)),
            ("used_strategy", .string(usedStrategy.rawValue)),
            ("run", .bool(wasRun)), ("ok", .bool(ok)), ("outcome", .string(outcome)), ("error", error?.json ?? .null),
        ]
        members += Self.syscallMembers(syscalls, timerFDs: timerFDSyscalls)
        members += [("model_ns", .optional(modelNanoseconds)),
                    ("projected_ns", .integer(SyscallCosts.integerNanoseconds(projectedNanoseconds)))]
        if isTree {
            members += [("failed_pid", .optional(failedPID)), ("notes", .strings(notes)),
                        ("processes", .array(processes.map(\.json), .lines))]
        }
        return .object(members)
    }

    /// `"syscalls"`, and `"timerfd_syscalls"` as a restore report has it when
    /// there were timerfds or itimers to restore.
    static func syscallMembers(_ s: SyscallCounts, timerFDs: TimerFDSyscallCounts?) -> [(key: String, value: JSONOutput)] {
        [("syscalls", s.json)] + (timerFDs.map { [("timerfd_syscalls", $0.json)] } ?? [])
    }
}

extension CompareProcessRow {
    /// One process of a tree row in `--json`: the same fields as a row, plus
    /// who it was (pid, ppid, file) and the pid it got on the model.
    var json: JSONOutput {
        .object([
            ("pid", .integer(entry.pid)), ("ppid", .integer(entry.ppid)), ("file", .string(entry.file)),
            ("restored_pid", .integer(restoredPID)), ("used_strategy", .string(usedStrategy.rawValue)),
            ("run", .bool(wasRun)), ("ok", .bool(ok)), ("outcome", .string(error.map(CompareRow.shorten) ?? "verified")),
            ("error", error?.json ?? .null),
        ] + CompareRow.syscallMembers(syscalls, timerFDs: timerFDSyscalls) + [
            ("model_ns", .optional(modelNanoseconds)),
            ("projected_ns", .integer(SyscallCosts.integerNanoseconds(projectedNanoseconds))),
        ])
    }
}
