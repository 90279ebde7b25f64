import TimerCore
/// The two faces of a restore report: `--json` (docs/restore.md lists the
/// fields) and the human summary.
extension RestoreReport {
    /// One JSON object; `timers` are shaped exactly like the dump's.
    public func jsonBytes(extra: [(key: String, rawJSON: String)] = []) -> [UInt8] {
        json(extra: extra).document
    }

    /// The report as a JSON value (a tree report nests it); `extra` members
    /// (already JSON text) go before `timers`.
    public func json(extra: [(key: String, rawJSON: String)] = []) -> JSONOutput {
        var members: [(key: String, value: JSONOutput)] = [
            ("ok", .bool(ok)),
            ("kernel", .string(kernel)),
            ("strategy", .string(strategy.rawValue)),
            ("requested_strategy", .string(requestedStrategy.rawValue)),
            ("pid", .integer(processID)),
            ("threads", .array(threadIDs.map { .integer($0) })),
            ("syscalls", syscalls.json),
            ("wall_ns", .integer(wallNanoseconds)),
            ("error", error?.json ?? .null),
            ("differences", .strings(differences)),
            ("warnings", .strings(warnings)),
            ("notes", .strings(notes)),
        ]
        members += extra.map { (key: $0.key, value: .raw($0.rawJSON)) }
        let timers = timers
        members.append(("timers", .elements(count: timers.count, .lines) { timers[$0].appendJSON(to: &$1) }))
        if let timerFDs {
            members.append(("timerfds", .elements(count: timerFDs.count, .lines) { timerFDs[$0].appendJSON(to: &$1) }))
        }
        if let itimers {
            var bytes: [UInt8] = []
            itimers.appendJSON(to: &bytes)
            members.append(("itimers", .raw(bytes)))
        }
        if let timerFDSyscalls { members.append(("timerfd_syscalls", timerFDSyscalls.json)) }
        return .object(members, .lines)
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
        lines.append("syscalls: \(syscalls.text) (total \(syscalls.total)) in \(DurationText.report(wallNanoseconds))")
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
        // A POSIX timer with no time left is disarmed, whatever its interval.
        if value == 0 { return "disarmed" }
        return describeArming(TimerValue(valueNanoseconds: value, intervalNanoseconds: interval))
    }

}
