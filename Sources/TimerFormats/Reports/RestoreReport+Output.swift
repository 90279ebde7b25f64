import TimerCore
/// The two faces of a restore report: `--json` (docs/restore.md lists the
/// fields) and the human summary.
extension RestoreReport {
    /// One JSON object; `timers` are shaped exactly like the dump's.
    public func jsonBytes(extra: [(key: String, rawJSON: String)] = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + timers.count * 200)
        func key(_ name: String) {
            out.append(contentsOf: ",\n  \"".utf8)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "\": ".utf8)
        }
        func strings(_ list: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, s) in list.enumerated() {
                if i > 0 { out.append(contentsOf: ", ".utf8) }
                JSONWriter.appendString(s, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: "{\n  \"ok\": \(ok)".utf8)
        key("kernel"); JSONWriter.appendString(kernel, to: &out)
        key("strategy"); JSONWriter.appendString(strategy.rawValue, to: &out)
        key("requested_strategy"); JSONWriter.appendString(requestedStrategy.rawValue, to: &out)
        key("pid"); JSONWriter.appendInteger(processID, to: &out)
        key("threads"); out.append(contentsOf: "[\(threadIDs.map(String.init).joined(separator: ", "))]".utf8)
        key("syscalls"); out.append(contentsOf: syscalls.json.utf8)
        key("wall_ns"); JSONWriter.appendInteger(wallNanoseconds, to: &out)
        key("error")
        if let error {
            out.append(contentsOf: "{\"code\": ".utf8)
            JSONWriter.appendString(error.code.rawValue, to: &out)
            out.append(contentsOf: ", \"message\": ".utf8)
            JSONWriter.appendString(error.message, to: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            out.append(contentsOf: "null".utf8)
        }
        key("differences"); strings(differences)
        key("warnings"); strings(warnings)
        key("notes"); strings(notes)
        for (name, raw) in extra { key(name); out.append(contentsOf: raw.utf8) }
        key("timers")
        out.append(UInt8(ascii: "["))
        for (i, timer) in timers.enumerated() {
            out.append(contentsOf: (i == 0 ? "\n    " : ",\n    ").utf8)
            timer.appendJSON(to: &out)
        }
        out.append(contentsOf: (timers.isEmpty ? "]" : "\n  ]").utf8)
        if let timerFDs {
            key("timerfds")
            out.append(UInt8(ascii: "["))
            for (i, timerFD) in timerFDs.enumerated() {
                out.append(contentsOf: (i == 0 ? "\n    " : ",\n    ").utf8)
                timerFD.appendJSON(to: &out)
            }
            out.append(contentsOf: (timerFDs.isEmpty ? "]" : "\n  ]").utf8)
        }
        if let itimers { key("itimers"); itimers.appendJSON(to: &out) }
        if let timerFDSyscalls { key("timerfd_syscalls"); out.append(contentsOf: timerFDSyscalls.json.utf8) }
        out.append(contentsOf: "\n}\n".utf8)
        return out
    }

    /// A few lines a person reads: what, how, what it cost, the verdict.
    public var humanText: String {
        var lines: [String] = []
        let how = requestedStrategy == .auto ? "\(strategy.rawValue) (auto)" : strategy.rawValue
        if let error {
            lines.append("restore FAILED on \(kernel) by \(how), pid \(processID): \(error.message)")
        } else {
            lines.append("restored \(timers.count) timer(s) on \(kernel) by \(how) into pid \(processID)"
                + (threadIDs.count > 1 ? " (threads \(threadIDs.dropFirst().map(String.init).joined(separator: " ")))" : ""))
        }
        lines.append("syscalls: timer_create \(syscalls.timerCreate), timer_delete \(syscalls.timerDelete), "
            + "timer_settime \(syscalls.timerSettime), prctl \(syscalls.prctl), sysctl_write \(syscalls.sysctlWrite) "
            + "(total \(syscalls.total)) in \(DurationText.report(wallNanoseconds))")
        if !timers.isEmpty {
            if error != nil { lines.append("timers present afterwards (\(timers.count)):") }
            var table = TextTable(headers: ["ID", "CLOCK", "NOTIFY", "SIGNAL", "SIGEV_VALUE", "ARMED"],
                                  minimumWidths: [10, 16, 16, 6], indent: "  ")
            for timer in timers.prefix(20) {
                table.rows.append([String(timer.id), timer.clockID.name, "\(timer.notify.rawValue)/\(timer.notifyTarget)",
                                   String(timer.signal), timer.sigevValueHex,
                                   Self.describeArming(timer) + (valuesNotDumped.contains(timer.id) ? " (times not dumped)" : "")])
            }
            lines.append(String(table.text.dropLast()))
            if timers.count > 20 { lines.append("  ... and \(timers.count - 20) more") }
        } else if error != nil {
            lines.append("timers present afterwards: none")
        }
        if let timerFDSyscalls { lines.append("syscalls: " + timerFDSyscalls.text) }
        if let timerFDs, !timerFDs.isEmpty {
            lines.append(String(CheckpointTable.timerFDTable(timerFDs.prefix(20)).dropLast()))
            if timerFDs.count > 20 { lines.append("  ... and \(timerFDs.count - 20) more") }
        }
        if let itimers {
            lines.append("  itimers: " + CheckpointITimers.Which.allCases.map { "\($0.name) \(Self.describeArming(itimers[$0]))" }
                .joined(separator: "; "))
        }
        for note in notes { lines.append("note: \(note)") }
        if error == nil {
            var also: [String] = []
            if let timerFDs, !timerFDs.isEmpty { also.append("the fdinfo of its \(timerFDs.count) timerfd(s)") }
            if itimers != nil { also.append("getitimer of its 3 itimers") }
            lines.append("verified: /proc/\(processID)/timers matches the checkpoint"
                + (also.isEmpty ? "" : ", and so do " + also.joined(separator: " and ")))
        } else if !differences.isEmpty {
            for d in differences.prefix(10) { lines.append("  differs: \(d)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The warnings as stderr lines, `timer-criu: warning: ...` (every mode,
    /// --json too, where they are in the object as well), optionally naming
    /// the process (`process 14588: `) in a tree restore.
    public func warningLines(process: Int32? = nil) -> String {
        warnings.map { EchoedText.warningLine($0, process: process) }.joined()
    }

    static func describeArming(_ value: TimerValue) -> String {
        if value.valueNanoseconds == 0 {
            return value.intervalNanoseconds == 0 ? "disarmed" : "expired, every \(DurationText.report(value.intervalNanoseconds))"
        }
        return DurationText.report(value.valueNanoseconds)
            + (value.intervalNanoseconds != 0 ? ", every \(DurationText.report(value.intervalNanoseconds))" : ", one-shot")
    }

    /// `abs`, `abs+cancel`, `-`.
    static func settimeText(_ flags: UInt32) -> String {
        var words: [String] = []
        if flags & CheckpointTimerFD.TFD_TIMER_ABSTIME != 0 { words.append("abs") }
        if flags & CheckpointTimerFD.TFD_TIMER_CANCEL_ON_SET != 0 { words.append("cancel") }
        return words.isEmpty ? "-" : words.joined(separator: "+")
    }

    static func describeArming(_ timer: CheckpointTimer) -> String {
        guard let value = timer.valueNanoseconds, let interval = timer.intervalNanoseconds else { return "?" }
        if value == 0 { return "disarmed" }
        return DurationText.report(value) + (interval != 0 ? ", every \(DurationText.report(interval))" : ", one-shot")
    }

}
