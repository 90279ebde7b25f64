import TimerCore
/// The two faces of a tree restore report (docs/trees.md): each process's
/// own report (the same as a single restore's), then the totals.
extension TreeRestoreReport {
    /// Processes that failed, with the first line of why.
    public var failures: [(pid: Int32, message: String)] {
        processes.compactMap { p in p.report.error.map { (p.entry.pid, $0.message) } }
    }

    public var humanText: String {
        var out = "tree \(directory): \(processes.count) process(es), root \(root), on \(kernel)\n"
        for p in processes {
            let parent = p.entry.pid == root ? "root, parent \(p.entry.ppid)" : "parent \(p.entry.ppid)"
            out += "\n== process \(p.entry.pid) (\(parent)) -> pid \(p.report.processID)\n"
            out += p.report.humanText
            if let held = p.heldPID { out += "held by helper pid \(held)\n" }
        }
        let s = totalSyscalls
        out += "\ntotal: \(verifiedCount) of \(processes.count) process(es) verified, \(totalTimers) timer(s); "
            + "syscalls: \(s.text) (total \(s.total)) in \(DurationText.report(wallNanoseconds))\n"
        if let fd = totalTimerFDSyscalls { out += "total: \(fd.text)\n" }
        for f in failures { out += "FAILED: process \(f.pid): \(f.message)\n" }
        for note in notes { out += "note: \(note)\n" }
        return out
    }

    /// One JSON object: `ok`, the tree, `processes` (each with the single
    /// restore's report object under `report`) and `total`.
    public func jsonBytes(reportExtras: [Int32: [(key: String, rawJSON: String)]] = [:]) -> [UInt8] {
        // Members at the start of their lines (no indentation), each process on one line with its report nested.
        let processList: [JSONOutput] = processes.map { p in
            .object([
                ("pid", .integer(p.entry.pid)), ("ppid", .integer(p.entry.ppid)), ("file", .string(p.entry.file)),
                ("restored_pid", .integer(p.report.processID)), ("ok", .bool(p.report.ok)),
                ("held_pid", .optional(p.heldPID)),
                ("report", p.report.json(extra: reportExtras[p.entry.pid] ?? [])),
            ])
        }
        var total: [(key: String, value: JSONOutput)] = [
            ("processes", .integer(processes.count)), ("verified", .integer(verifiedCount)),
            ("failed", .integer(processes.count - verifiedCount)), ("timers", .integer(totalTimers)),
            ("syscalls", totalSyscalls.json),
        ]
        if let fd = totalTimerFDSyscalls { total.append(("timerfd_syscalls", fd.json)) }
        total.append(("wall_ns", .integer(wallNanoseconds)))
        return JSONOutput.object([
            ("ok", .bool(ok)), ("tree", .string(directory)), ("kernel", .string(kernel)), ("root", .integer(root)),
            ("processes", .array(processList, .lines(step: 0))),
            ("total", .object(total)),
            ("notes", .strings(notes)),
        ], .lines(step: 0)).document
    }
}
