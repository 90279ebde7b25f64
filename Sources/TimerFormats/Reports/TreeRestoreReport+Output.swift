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
            + "syscalls: timer_create \(s.timerCreate), timer_delete \(s.timerDelete), "
            + "timer_settime \(s.timerSettime), prctl \(s.prctl), sysctl_write \(s.sysctlWrite) "
            + "(total \(s.total)) in \(DurationText.report(wallNanoseconds))\n"
        if let fd = totalTimerFDSyscalls { out += "total: \(fd.text)\n" }
        for f in failures { out += "FAILED: process \(f.pid): \(f.message)\n" }
        for note in notes { out += "note: \(note)\n" }
        return out
    }

    /// One JSON object: `ok`, the tree, `processes` (each with the single
    /// restore's report object under `report`) and `total`.
    public func jsonBytes(reportExtras: [Int32: [(key: String, rawJSON: String)]] = [:]) -> [UInt8] {
        var out: [UInt8] = []
        func raw(_ text: String) { out.append(contentsOf: text.utf8) }
        raw("{\n\"ok\": \(ok),\n\"tree\": ")
        JSONWriter.appendString(directory, to: &out)
        raw(",\n\"kernel\": ")
        JSONWriter.appendString(kernel, to: &out)
        raw(",\n\"root\": \(root),\n\"processes\": [")
        for (i, p) in processes.enumerated() {
            raw(i == 0 ? "\n{" : ",\n{")
            raw("\"pid\": \(p.entry.pid), \"ppid\": \(p.entry.ppid), \"file\": ")
            JSONWriter.appendString(p.entry.file, to: &out)
            raw(", \"restored_pid\": \(p.report.processID), \"ok\": \(p.report.ok)")
            raw(", \"held_pid\": " + (p.heldPID.map { String($0) } ?? "null"))
            raw(", \"report\": ")
            var report = p.report.jsonBytes(extra: reportExtras[p.entry.pid] ?? [])
            while report.last == UInt8(ascii: "\n") { report.removeLast() }
            out.append(contentsOf: report)
            raw("}")
        }
        let s = totalSyscalls
        raw(processes.isEmpty ? "],\n" : "\n],\n")
        let failed = processes.count - verifiedCount
        raw("\"total\": {\"processes\": \(processes.count), \"verified\": \(verifiedCount), ")
        raw("\"failed\": \(failed), \"timers\": \(totalTimers), ")
        raw("\"syscalls\": \(s.json), ")
        if let fd = totalTimerFDSyscalls { raw("\"timerfd_syscalls\": \(fd.json), ") }
        raw("\"wall_ns\": \(wallNanoseconds)},\n\"notes\": [")
        for (i, note) in notes.enumerated() {
            if i > 0 { raw(", ") }
            JSONWriter.appendString(note, to: &out)
        }
        raw("]\n}\n")
        return out
    }
}
