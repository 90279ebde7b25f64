import TimerCore
import TimerFormats
/// A script of timer syscalls for `timer-criu simulate`, one call per line
/// (docs/model-kernel.md, "The simulate script language"):
///
///     # comment; blank lines are allowed
///     create clock=C [notify=signal|none|thread|thread_id|N] [signal=S] [sival=0xHEX]
///            [tid=K | target=T] [id=I]
///     delete id=I
///     settime id=I value_ns=V interval_ns=P [abs=1]
///     gettime id=I                       (prints "V P")
///     getoverrun id=I
///     prctl restore-ids=on|off|get
///     cursor id=I
///     sleep ns=N                         (lets time pass; prints 0)
///
/// The whole text is checked before any call runs; the first problem is
/// reported with its 1-based line number.
public struct SimulationScript: Equatable, Sendable {
    public struct Line: Equatable, Sendable {
        /// 1-based line number in the text.
        public var number: Int
        public var call: SimulationCall
    }

    public var lines: [Line]

    public init(lines: [Line]) { self.lines = lines }

    /// The lines a run prints: one per call.
    public var outputLineCount: Int { lines.count }

    /// Parses `text`. `threads` is the number of threads the process will
    /// have (main + extra), so `tid=K` can be checked before anything runs.
    public static func parse(_ text: String, threads: Int) throws(SimulationScriptError) -> SimulationScript {
        var lines: [Line] = []
        var number = 0
        // "\r\n" is one Character in Swift, not a "\n": CRLF scripts split too.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            var content = Substring(raw)
            if let hash = content.firstIndex(of: "#") { content = content[..<hash] }
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let verb = words.first else { continue }
            do {
                let call = try parseCall(verb: String(verb), words: words.dropFirst(), threads: threads)
                lines.append(Line(number: number, call: call))
            } catch {
                // The problem quotes the script: escaped, so it stays one line.
                throw SimulationScriptError(line: number, problem: EchoedText.escaped(error.problem))
            }
        }
        return SimulationScript(lines: lines)
    }

    private struct Problem: Error { var problem: String }

    private static let verbs = ["create", "delete", "settime", "gettime", "getoverrun", "prctl", "cursor", "sleep"]

    private static func parseCall(verb: String, words: ArraySlice<Substring>, threads: Int) throws(Problem) -> SimulationCall {
        func q(_ text: String) -> String { EchoedText.cut(text) }
        let args = try Arguments(verb: q(verb), words: words)
        let call: SimulationCall
        switch verb {
        case "create":
            try args.allow(["clock", "notify", "signal", "sival", "tid", "target", "id"])
            let clockText = try args.required("clock")
            guard let clock = ClockID(name: clockText) else {
                throw Problem(problem: "create: clock=\(q(clockText)) is not a clock id (an integer such as 0 or -6, or a name such as monotonic or cpu:pid=N:sched with N at most \(ClockID.maximumCPUClockPID))")
            }
            let id = try args.int32("id") ?? 0
            guard let notifyText = args.values["notify"] else {
                for key in ["signal", "sival", "tid", "target"] where args.values[key] != nil {
                    throw Problem(problem: "create: \(key)= needs notify= (without notify a NULL sigevent is passed)")
                }
                call = .create(clock: clock, sigevent: nil, idBuffer: id)
                break
            }
            let notify: Int32
            if let mode = NotifyMode(rawValue: notifyText) {
                notify = mode.sigevNotify
            } else if let raw = Int32(notifyText) {
                notify = raw
            } else {
                throw Problem(problem: "create: notify=\(q(notifyText)) is not one of signal, none, thread, thread_id or an integer")
            }
            let signal = try args.int32("signal") ?? (notify == NotifyMode.none.sigevNotify ? 0 : Sigevent.SIGALRM)
            let sival = try args.sival()
            let target: SimulationCall.NotifyTarget
            switch (try args.int32("tid"), try args.int32("target")) {
            case (.some, .some):
                throw Problem(problem: "create: give tid=K (the K-th thread) or target=T (a raw tid), not both")
            case (.some(let k), nil):
                guard k >= 0 && Int(k) < threads else {
                    throw Problem(problem: "create: tid=\(k) but the process has threads 0...\(threads - 1) (use --threads N for more)")
                }
                target = .thread(Int(k))
            case (nil, .some(let t)):
                target = .raw(t)
            case (nil, nil):
                if notify == NotifyMode.threadID.sigevNotify {
                    throw Problem(problem: "create: notify=thread_id needs tid=K or target=T")
                }
                target = .raw(0)
            }
            call = .create(clock: clock, sigevent: .init(notify: notify, signal: signal, value: sival, target: target),
                           idBuffer: id)
        case "delete", "gettime", "getoverrun", "cursor":
            try args.allow(["id"])
            guard let id = try args.int32("id") else { throw Problem(problem: "\(verb): missing id=I") }
            switch verb {
            case "delete": call = .delete(id)
            case "gettime": call = .gettime(id)
            case "getoverrun": call = .getoverrun(id)
            default: call = .cursor(id)
            }
        case "settime":
            try args.allow(["id", "value_ns", "interval_ns", "abs"])
            guard let id = try args.int32("id") else { throw Problem(problem: "settime: missing id=I") }
            guard let value = try args.int64("value_ns") else { throw Problem(problem: "settime: missing value_ns=V") }
            let interval = try args.int64("interval_ns") ?? 0
            let absolute: Bool
            switch args.values["abs"] {
            case nil, "0": absolute = false
            case "1": absolute = true
            case let other?: throw Problem(problem: "settime: abs=\(q(other)) must be 0 or 1")
            }
            call = .settime(id, TimerValue(valueNanoseconds: value, intervalNanoseconds: interval), absolute: absolute)
        case "prctl":
            try args.allow(["restore-ids"])
            let text = try args.required("restore-ids")
            guard let op = RestoreIDsOperation.allCases.first(where: { $0.name == text }) else {
                throw Problem(problem: "prctl: restore-ids=\(q(text)) must be on, off or get")
            }
            call = .prctl(op)
        case "sleep":
            try args.allow(["ns"])
            guard let ns = try args.int64("ns"), ns >= 0 else { throw Problem(problem: "sleep: needs ns=N with N >= 0") }
            call = .sleep(nanoseconds: ns)
        default:
            throw Problem(problem: "unknown call '\(q(verb))' (expected one of \(verbs.joined(separator: ", ")))")
        }
        return call
    }

    /// The `key=value` words of one line.
    private struct Arguments {
        let verb: String
        var values: [String: String] = [:]

        init(verb: String, words: ArraySlice<Substring>) throws(Problem) {
            self.verb = verb
            for word in words {
                guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                    throw Problem(problem: "\(verb): expected key=value, found '\(EchoedText.cut(word))'")
                }
                let key = String(word[..<eq])
                let value = String(word[word.index(after: eq)...])
                guard values[key] == nil else { throw Problem(problem: "\(verb): \(EchoedText.cut(key))= given twice") }
                guard !value.isEmpty else { throw Problem(problem: "\(verb): \(EchoedText.cut(key))= has no value") }
                values[key] = value
            }
        }

        func allow(_ keys: [String]) throws(Problem) {
            for key in values.keys.sorted() where !keys.contains(key) {
                throw Problem(problem: "\(verb): unknown key '\(EchoedText.cut(key))' (expected \(keys.joined(separator: ", ")))")
            }
        }

        func required(_ key: String) throws(Problem) -> String {
            guard let value = values[key] else { throw Problem(problem: "\(verb): missing \(key)=") }
            return value
        }

        func int32(_ key: String) throws(Problem) -> Int32? {
            guard let text = values[key] else { return nil }
            guard let value = Int32(text) else {
                throw Problem(problem: "\(verb): \(key)=\(EchoedText.cut(text)) is not an integer in \(Int32.min)...\(Int32.max)")
            }
            return value
        }

        func int64(_ key: String) throws(Problem) -> Int64? {
            guard let text = values[key] else { return nil }
            guard let value = Int64(text) else { throw Problem(problem: "\(verb): \(key)=\(EchoedText.cut(text)) is not a 64-bit integer") }
            return value
        }

        func sival() throws(Problem) -> UInt64 {
            guard let text = values["sival"] else { return 0 }
            let value: UInt64?
            if text.hasPrefix("0x") || text.hasPrefix("0X") {
                value = CheckpointTimer.hexDigits(text.utf8.dropFirst(2))
            } else {
                value = text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) ? UInt64(text) : nil
            }
            guard let value else { throw Problem(problem: "\(verb): sival=\(EchoedText.cut(text)) is not 0xHEX or a decimal in 0...2^64-1") }
            return value
        }
    }
}

/// One call of a simulate script.
public enum SimulationCall: Equatable, Sendable {
    /// Where a SIGEV_THREAD_ID timer points.
    public enum NotifyTarget: Equatable, Sendable {
        /// The K-th thread of the process (0 = main).
        case thread(Int)
        /// A raw tid, passed as is.
        case raw(Int32)
    }

    public struct SigeventSpec: Equatable, Sendable {
        public var notify: Int32
        public var signal: Int32
        public var value: UInt64
        public var target: NotifyTarget
        public init(notify: Int32, signal: Int32, value: UInt64, target: NotifyTarget) {
            self.notify = notify
            self.signal = signal
            self.value = value
            self.target = target
        }
    }

    /// `idBuffer` is what the ID buffer holds when the call is made (create-
    /// at-ID mode reads it): the `id=` given, or 0.
    case create(clock: ClockID, sigevent: SigeventSpec?, idBuffer: Int32)
    case delete(Int32)
    case settime(Int32, TimerValue, absolute: Bool)
    case gettime(Int32)
    case getoverrun(Int32)
    case prctl(RestoreIDsOperation)
    case cursor(Int32)
    case sleep(nanoseconds: Int64)

}

/// A script refused before anything ran: `line 3: create: unknown key 'clok' ...`.
public struct SimulationScriptError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var problem: String
    public init(line: Int, problem: String) {
        self.line = line
        self.problem = problem
    }
    public var description: String { "line \(line): \(problem)" }
}
