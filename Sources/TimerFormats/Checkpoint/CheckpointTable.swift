import TimerCore
/// The human form of a checkpoint that `timer-criu inspect` prints: one row
/// per timer, times in human units, then the warnings.
public enum CheckpointTable {
    /// The whole text, ending with a newline. `title` (e.g. "CRIU image
    /// directory DIR") starts the first line when given.
    public static func render(_ checkpoint: Checkpoint, title: String? = nil) -> String {
        var out = ""
        let threads = checkpoint.threads.map(String.init).joined(separator: ", ")
        let count = checkpoint.timers.count == 1 ? "1 timer" : "\(checkpoint.timers.count) timers"
        var summary = "pid \(checkpoint.pid), threads [\(threads)], kernel \(EchoedText.escaped(checkpoint.kernel)), \(count)"
        if let timerFDs = checkpoint.timerFDs { summary += ", \(timerFDs.count) timerfd(s)" }
        if let itimers = checkpoint.itimers, itimers.armedCount > 0 { summary += ", \(itimers.armedCount) armed itimer(s)" }
        out += (title.map { "\($0): " } ?? "") + summary + "\n"
        out += "\n"

        if !checkpoint.timers.isEmpty {
            // ID and OVERRUN are numbers: right-aligned.
            var table = TextTable(headers: ["ID", "CLOCK", "NOTIFY", "SIGNAL", "SIGEV_VALUE", "ARMED", "OVERRUN"],
                                  rightAligned: [0, 6])
            table.rows = checkpoint.timers.map { timer in
                [String(timer.id), timer.clockID.description, notify(timer, pid: checkpoint.pid), signal(timer),
                 sigevValue(timer), armed(timer), timer.overrun.map(String.init) ?? "-"]
            }
            out += table.text
        }

        if !checkpoint.timers.isEmpty { out += "\n" }
        if let timerFDs = checkpoint.timerFDs, !timerFDs.isEmpty {
            out += timerFDTable(timerFDs)
            out += "\n"
        }
        if let itimers = checkpoint.itimers, itimers.armedCount > 0 {
            out += "itimers: " + CheckpointITimers.Which.allCases
                .map { "\($0.name) \(RestoreReport.describeArming(itimers[$0]))" }.joined(separator: "; ") + "\n\n"
        } else if checkpoint.itimers == nil && checkpoint.timerFDs != nil {
            out += "itimers: not read (only the process can call getitimer: dump --values)\n\n"
        }
        if checkpoint.warnings.isEmpty {
            out += "no warnings\n"
        } else {
            out += "warnings:\n"
            // A checkpoint's text, escaped: a crafted file cannot forge lines or terminal escapes.
            for warning in checkpoint.warnings { out += "  - \(EchoedText.escaped(warning))\n" }
        }
        return out
    }

    /// "signal -> pid 10177", "none", "thread_id -> tid 10179 (exited)".
    static func notify(_ timer: CheckpointTimer, pid: Int32) -> String {
        switch timer.notify {
        case .none: return "none"
        case .signal, .thread: return "\(timer.notify.rawValue) -> pid \(timer.notifyTarget)"
        case .threadID: return "thread_id -> tid \(timer.notifyTarget)" + (timer.notifyTargetExited ? " (exited)" : "")
        }
    }

    /// "14 (SIGALRM)", "40"; real-time signals (32 and up) are shown as numbers
    /// because glibc's SIGRTMIN (34) is not the kernel's (32).
    static func signal(_ timer: CheckpointTimer) -> String {
        let names = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
                     "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
                     "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"]
        guard timer.signal >= 1, Int(timer.signal) <= names.count else { return String(timer.signal) }
        return "\(timer.signal) (SIG\(names[Int(timer.signal) - 1]))"
    }

    /// Short hex ("0x1111", "0"); "(hashed)" when /proc printed a hashed pointer.
    static func sigevValue(_ timer: CheckpointTimer) -> String {
        let hex = timer.sigevValue == 0 ? "0" : "0x" + String(timer.sigevValue, radix: 16)
        return timer.sigevValueReliable ? hex : hex + " (hashed)"
    }

    /// "97.576 s, every 5 s", "197.576 s, one-shot", "disarmed", "not dumped".
    static func armed(_ timer: CheckpointTimer) -> String {
        switch (timer.valueNanoseconds, timer.intervalNanoseconds) {
        case (nil, nil):
            return "not dumped"
        case (let value?, let interval):
            let period = interval.map { $0 > 0 ? "every \(DurationText.exact($0))" : "one-shot" }
            if value == 0 {
                guard let interval, interval > 0 else { return "disarmed" }
                // docs/kernel-facts.md 6: CRIU arms such a timer with its interval.
                return "0 s left, every \(DurationText.exact(interval))"
            }
            return DurationText.exact(value) + (period.map { ", " + $0 } ?? "")
        case (nil, let interval?):
            return interval > 0 ? "value not dumped, every \(DurationText.exact(interval))" : "value not dumped, one-shot"
        }
    }

    /// The timerfds of a checkpoint or a restore report: fd, clock, flags,
    /// settime flags, ticks, time left and interval.
    public static func timerFDTable(_ timerFDs: some Sequence<CheckpointTimerFD>) -> String {
        var table = TextTable(headers: ["FD", "CLOCK", "FLAGS", "SETTIME", "TICKS", "ARMED"],
                              minimumWidths: [10, 16, 8, 7, 6], indent: "  ")
        for timerFD in timerFDs {
            table.rows.append([String(timerFD.fd), timerFD.clockID.name, timerFD.flagsHex,
                               RestoreReport.settimeText(timerFD.settimeFlags), String(timerFD.ticks),
                               RestoreReport.describeArming(TimerValue(valueNanoseconds: timerFD.valueNanoseconds,
                                                                       intervalNanoseconds: timerFD.intervalNanoseconds))])
        }
        return table.text
    }
}

extension CheckpointTable {
    /// `inspect DIR` of a `timer-criu-tree/1` directory: a header naming the
    /// root, then each process's table titled "process PID (parent PPID)",
    /// parents first (the order `CheckpointTree.load` gives).
    public static func render(tree: CheckpointTree) -> String {
        let timers = tree.checkpoints.reduce(0) { $0 + $1.timers.count }
        var out = "timer-criu-tree/1 directory \(tree.directory): root \(tree.index.root), "
            + "\(tree.checkpoints.count) process(es), \(timers) timer(s)\n"
        for (entry, checkpoint) in zip(tree.index.processes, tree.checkpoints) {
            out += "\n" + render(checkpoint, title: "process \(entry.pid) (parent \(entry.ppid))")
        }
        return out
    }
}

extension CheckpointTree {
    /// `inspect DIR --json`: the index and the checkpoints as one object
    /// (docs/trees.md): `format`, `root`, and `processes`, each index entry
    /// (`pid`, `ppid`, `file`) with its timer-criu/1 checkpoint under
    /// `checkpoint`, parents first.
    public func inspectJSONBytes() -> [UInt8] {
        // Each process on one line, its checkpoint as the fast writer writes it.
        let processList: [JSONOutput] = zip(index.processes, checkpoints).map { entry, checkpoint in
            var body = checkpoint.jsonBytes()
            while body.last == UInt8(ascii: "\n") { body.removeLast() }
            return .object(entry.json + [("checkpoint", .raw(body))])
        }
        return JSONOutput.object([
            ("format", .string(index.format)), ("root", .integer(index.root)),
            ("processes", .array(processList, .lines(step: 0))),
        ], .lines(step: 0)).document
    }
}
