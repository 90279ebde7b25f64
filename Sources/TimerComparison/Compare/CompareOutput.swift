import TimerCore
import TimerFormats
extension SyscallCosts {
    /// One line naming the figures, for the foot of tables.
    public var summaryLine: String {
        "costs (\(source)): " + figures.map { "\($0.name) \(SyscallCosts.formatNumber($0.nanoseconds)) ns" }
            .joined(separator: ", ")
    }

    /// The costs as a JSON object (the costs file without its last newline).
    public var jsonObject: String {
        var text = String(decoding: jsonBytes(), as: UTF8.self)
        text.removeLast()
        return text.replacing("\n", with: "\n  ")
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
        var out: [UInt8] = []
        out.append(contentsOf: "{\n  \"checkpoint\": ".utf8)
        JSONWriter.appendString(checkpointName, to: &out)
        out.append(contentsOf: ",\n  \"timers\": \(timerCount),\n  \"max_id\": \(maxID.map(String.init) ?? "null")".utf8)
        out.append(contentsOf: ",\n  \"run_limit\": \(runLimit < 0 ? "null" : String(runLimit))".utf8)
        if let tree {
            out.append(contentsOf: ",\n  \"tree\": {\"root\": \(tree.root), \"processes\": \(tree.processes)}".utf8)
        }
        out.append(contentsOf: ",\n  \"costs\": \(costs.jsonObject)".utf8)
        if !kernelMemoryBytes.isEmpty {
            out.append(contentsOf: ",\n  \"kernel_memory_bytes\": {".utf8)
            for (i, kernel) in kernelMemoryBytes.keys.sorted().enumerated() {
                if i > 0 { out.append(contentsOf: ", ".utf8) }
                JSONWriter.appendString(kernel, to: &out)
                out.append(contentsOf: ": \(kernelMemoryBytes[kernel]!)".utf8)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: ",\n  \"rows\": [".utf8)
        for (index, row) in rows.enumerated() {
            out.append(contentsOf: (index == 0 ? "\n    " : ",\n    ").utf8)
            row.appendJSON(to: &out)
        }
        out.append(contentsOf: (rows.isEmpty ? "]\n}\n" : "\n  ]\n}\n").utf8)
        return String(decoding: out, as: UTF8.self)
    }
}

extension CompareRow {
    func appendJSON(to out: inout [UInt8]) {
        out.append(contentsOf: "{\"kernel\": ".utf8)
        JSONWriter.appendString(kernel, to: &out)
        out.append(contentsOf: ", \"strategy\": ".utf8)
        JSONWriter.appendString(strategy.rawValue, to: &out)
        out.append(contentsOf: ", \"used_strategy\": ".utf8)
        JSONWriter.appendString(usedStrategy.rawValue, to: &out)
        out.append(contentsOf: ", \"run\": \(wasRun), \"ok\": \(ok), \"outcome\": ".utf8)
        JSONWriter.appendString(outcome, to: &out)
        out.append(contentsOf: ", \"error\": ".utf8)
        CompareRow.appendError(error, to: &out)
        out.append(contentsOf: ", ".utf8)
        CompareRow.appendSyscalls(syscalls, timerFDs: timerFDSyscalls, to: &out)
        out.append(contentsOf: ", \"model_ns\": \(modelNanoseconds.map(String.init) ?? "null")".utf8)
        out.append(contentsOf: ", \"projected_ns\": \(SyscallCosts.integerNanoseconds(projectedNanoseconds))".utf8)
        if isTree {
            out.append(contentsOf: ", \"failed_pid\": \(failedPID.map(String.init) ?? "null"), \"notes\": [".utf8)
            for (i, note) in notes.enumerated() {
                if i > 0 { out.append(contentsOf: ", ".utf8) }
                JSONWriter.appendString(note, to: &out)
            }
            out.append(contentsOf: "], \"processes\": [".utf8)
            for (i, process) in processes.enumerated() {
                out.append(contentsOf: (i == 0 ? "\n      " : ",\n      ").utf8)
                process.appendJSON(to: &out)
            }
            out.append(contentsOf: (processes.isEmpty ? "]" : "\n    ]").utf8)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func appendError(_ error: RestoreFailure?, to out: inout [UInt8]) {
        guard let error else { out.append(contentsOf: "null".utf8); return }
        out.append(contentsOf: "{\"code\": ".utf8)
        JSONWriter.appendString(error.code.rawValue, to: &out)
        out.append(contentsOf: ", \"message\": ".utf8)
        JSONWriter.appendString(error.message, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `"syscalls": {...}`, and `"timerfd_syscalls": {...}` as a restore
    /// report has it when there were timerfds or itimers to restore.
    static func appendSyscalls(_ s: SyscallCounts, timerFDs: TimerFDSyscallCounts?, to out: inout [UInt8]) {
        out.append(contentsOf: "\"syscalls\": \(s.json)".utf8)
        if let timerFDs { out.append(contentsOf: ", \"timerfd_syscalls\": \(timerFDs.json)".utf8) }
    }
}

extension CompareProcessRow {
    /// One process of a tree row in `--json`: the same fields as a row, plus
    /// who it was (pid, ppid, file) and the pid it got on the model.
    func appendJSON(to out: inout [UInt8]) {
        out.append(contentsOf: "{\"pid\": \(entry.pid), \"ppid\": \(entry.ppid), \"file\": ".utf8)
        JSONWriter.appendString(entry.file, to: &out)
        out.append(contentsOf: ", \"restored_pid\": \(restoredPID), \"used_strategy\": ".utf8)
        JSONWriter.appendString(usedStrategy.rawValue, to: &out)
        out.append(contentsOf: ", \"run\": \(wasRun), \"ok\": \(ok), \"outcome\": ".utf8)
        JSONWriter.appendString(error.map(CompareRow.shorten) ?? "verified", to: &out)
        out.append(contentsOf: ", \"error\": ".utf8)
        CompareRow.appendError(error, to: &out)
        out.append(contentsOf: ", ".utf8)
        CompareRow.appendSyscalls(syscalls, timerFDs: timerFDSyscalls, to: &out)
        out.append(contentsOf: ", \"model_ns\": \(modelNanoseconds.map(String.init) ?? "null")".utf8)
        out.append(contentsOf: ", \"projected_ns\": \(SyscallCosts.integerNanoseconds(projectedNanoseconds))}".utf8)
    }
}
