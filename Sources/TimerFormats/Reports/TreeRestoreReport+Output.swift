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

extension RestoreReport {
    /// Reads back the JSON object `jsonBytes()` writes (a host restore
    /// helper's report), so a tree restore can add it up and print it like a
    /// model report. The timers are read with the checkpoint's timer reader.
    public init(json bytes: [UInt8]) throws(CheckpointError) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw CheckpointError("restore report: not JSON: \(error)")
        }
        let reader = CheckpointReader(path: "restore report")
        func text(_ key: String) throws(CheckpointError) -> String {
            try reader.string(try reader.required(document, key, at: ""), at: key)
        }
        func int(_ value: JSONValue?, _ at: String) throws(CheckpointError) -> Int64 {
            guard let value else { throw reader.fail(at, "missing") }
            return try reader.integer(value, at: at, in: Int64.min...Int64.max)
        }
        func strings(_ key: String) throws(CheckpointError) -> [String] {
            guard case let .array(items)? = document[key] else { return [] }
            var list: [String] = []
            for (i, item) in items.enumerated() { list.append(try reader.string(item, at: "\(key)[\(i)]")) }
            return list
        }
        guard let strategy = RestoreStrategy(rawValue: try text("strategy")),
              let requested = RestoreStrategy(rawValue: try text("requested_strategy")) else {
            throw reader.fail("strategy", "unknown strategy")
        }
        var threads: [Int32] = []
        if case let .array(items)? = document["threads"] {
            for (i, item) in items.enumerated() { threads.append(Int32(truncatingIfNeeded: try int(item, "threads[\(i)]"))) }
        }
        self.init(kernel: try text("kernel"), strategy: strategy, requestedStrategy: requested,
                  processID: Int32(truncatingIfNeeded: try int(document["pid"], "pid")), threadIDs: threads)
        if let calls = document["syscalls"] {
            syscalls.timerCreate = Int(try int(calls["timer_create"], "syscalls.timer_create"))
            syscalls.timerDelete = Int(try int(calls["timer_delete"], "syscalls.timer_delete"))
            syscalls.timerSettime = Int(try int(calls["timer_settime"], "syscalls.timer_settime"))
            syscalls.prctl = Int(try int(calls["prctl"], "syscalls.prctl"))
            syscalls.sysctlWrite = Int(try int(calls["sysctl_write"], "syscalls.sysctl_write"))
        }
        wallNanoseconds = try int(document["wall_ns"], "wall_ns")
        if let error = document["error"], error != .null {
            let code = try reader.string(try reader.required(error, "code", at: "error"), at: "error.code")
            let message = try reader.string(try reader.required(error, "message", at: "error"), at: "error.message")
            self.error = RestoreFailure(RestoreFailure.Code(rawValue: code) ?? .verificationFailed, message)
        }
        differences = try strings("differences")
        warnings = try strings("warnings")
        notes = try strings("notes")
        if case let .array(items)? = document["timers"] {
            for (i, item) in items.enumerated() { timers.append(try reader.timer(item, at: "timers[\(i)]")) }
        }
    }
}
