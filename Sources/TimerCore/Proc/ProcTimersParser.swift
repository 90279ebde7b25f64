/// Why the text of /proc/PID/timers was refused: the 1-based line and what is
/// wrong there, e.g. `line 6: expected "notify: ", found "notfy: signal/pid.1"`.
public struct ProcTimersParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number in the text.
    public var line: Int
    public var problem: String

    public init(line: Int, _ problem: String) {
        self.line = line
        self.problem = problem
    }

    public var description: String { "line \(line): \(problem)" }
}

/// Parses the text of /proc/PID/timers (docs/kernel-facts.md section 1) into records,
/// in the order the kernel printed them (newest-created first).
///
/// A pure function of the bytes: no regular expressions and no Foundation, one
/// pass over the buffer, so 90,000 timers (6.6 MB) parse in milliseconds.
///
/// Accepted on purpose: the three sival forms (`%px` 16 hex digits, unpadded
/// hex, `(null)`), any int as the signal (SIGEV_NONE keeps whatever was passed),
/// negative clock ids (CPU clocks). Refused with the line number: anything
/// else, including text cut short (a block of fewer than four lines, or a last
/// line without its newline).
public enum ProcTimersParser {
    public static func parse(_ bytes: [UInt8]) throws(ProcTimersParseError) -> [ProcTimer] {
        try bytes.withUnsafeBufferPointer { (buffer) throws(ProcTimersParseError) in
            var cursor = Cursor(buffer)
            return try cursor.parseAll()
        }
    }

    public static func parse(_ text: String) throws(ProcTimersParseError) -> [ProcTimer] {
        try parse(Array(text.utf8))
    }

    /// Walks the buffer line by line; `line` is the 1-based number of the line
    /// starting at `position`.
    struct Cursor {
        let buffer: UnsafeBufferPointer<UInt8>
        var position = 0
        var line = 1

        init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

        mutating func parseAll() throws(ProcTimersParseError) -> [ProcTimer] {
            var timers: [ProcTimer] = []
            // About 72 bytes per block with %px: reserve once.
            timers.reserveCapacity(buffer.count / 64)
            while position < buffer.count {
                timers.append(try parseBlock())
            }
            return timers
        }

        mutating func parseBlock() throws(ProcTimersParseError) -> ProcTimer {
            // ID: 0...INT_MAX
            var fields = try takeLine(prefix: "ID: ")
            let id = try fields.decimal(in: 0...Int64(Int32.max), what: "timer ID")
            try fields.finish()

            // signal: SIGNO/SIVAL
            fields = try takeLine(prefix: "signal: ")
            let signal = Int32(try fields.decimal(in: Int64(Int32.min)...Int64(Int32.max), what: "signal number"))
            try fields.expect(UInt8(ascii: "/"), after: "the signal number")
            let (sival, form) = try fields.sival()
            try fields.finish()

            // notify: WHAT/KIND.N
            fields = try takeLine(prefix: "notify: ")
            let notify = try fields.notifyMode()
            let target = Int32(try fields.decimal(in: 0...Int64(Int32.max), what: "notify target"))
            try fields.finish()

            // ClockID: any int (negative: CPU clocks, docs/kernel-facts.md section 4)
            fields = try takeLine(prefix: "ClockID: ")
            let clock = Int32(try fields.decimal(in: Int64(Int32.min)...Int64(Int32.max), what: "clock id"))
            try fields.finish()

            return ProcTimer(id: Int32(id), signal: signal, sigevValue: sival, sigevValueForm: form,
                             notify: notify, notifyTarget: target, clockID: ClockID(clock))
        }

        /// Takes the next line, which must start with `prefix` and end with a
        /// newline; returns the part after the prefix.
        mutating func takeLine(prefix: StaticString) throws(ProcTimersParseError) -> Fields {
            let start = position
            let lineNumber = line
            guard start < buffer.count else {
                throw ProcTimersParseError(
                    line: lineNumber, "truncated: expected \"\(prefix)\" line, found the end of the text")
            }
            var end = start
            while end < buffer.count && buffer[end] != UInt8(ascii: "\n") { end += 1 }
            guard end < buffer.count else {
                throw ProcTimersParseError(line: lineNumber, "truncated: the last line has no newline")
            }
            position = end + 1
            line += 1
            let matches: Bool = prefix.withUTF8Buffer { p in
                guard end - start >= p.count else { return false }
                for i in 0..<p.count where buffer[start + i] != p[i] { return false }
                return true
            }
            guard matches else {
                throw ProcTimersParseError(
                    line: lineNumber, "expected \"\(prefix)\", found \"\(Fields.show(buffer, start, end))\"")
            }
            return Fields(buffer: buffer, position: start + prefix.utf8CodeUnitCount, end: end, line: lineNumber,
                          lineStart: start)
        }
    }

    /// The rest of one line, consumed field by field.
    struct Fields {
        let buffer: UnsafeBufferPointer<UInt8>
        var position: Int
        let end: Int
        let line: Int
        let lineStart: Int

        func error(_ problem: String) -> ProcTimersParseError {
            ProcTimersParseError(line: line, problem)
        }

        /// The line's text for messages, cut at 60 bytes.
        static func show(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
            let cut = min(end, start + 60)
            let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<cut]), as: UTF8.self)
            // Escaped: the line may hold control characters (a CR, ESC).
            return EchoedText.escaped(cut < end ? text + "..." : text)
        }

        var rest: String { Fields.show(buffer, position, end) }

        /// An optionally negative decimal integer within `range`.
        mutating func decimal(in range: ClosedRange<Int64>, what: String) throws(ProcTimersParseError) -> Int64 {
            let start = position
            var negative = false
            if position < end && buffer[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            var magnitude: Int64 = 0
            var digits = 0
            while position < end {
                let c = buffer[position]
                guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { break }
                // 12 digits are past every range we read; stop before overflow.
                if digits < 12 { magnitude = magnitude * 10 + Int64(c - UInt8(ascii: "0")) }
                digits += 1
                position += 1
            }
            guard digits > 0 else {
                position = start
                throw error("expected the \(what) (a decimal integer), found \"\(rest)\"")
            }
            let value = negative ? -magnitude : magnitude
            guard digits <= 11, range.contains(value) else {
                let text = Fields.show(buffer, start, position)
                throw error("\(what) \(text) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }

        /// sival: 16 hex digits (`%px`), fewer (pre-4.15 unpadded) or `(null)`.
        mutating func sival() throws(ProcTimersParseError) -> (UInt64, ProcTimer.SigevValueForm) {
            if matches("(null)") {
                position += 6
                return (0, .null)
            }
            var value: UInt64 = 0
            var digits = 0
            while position < end {
                let c = buffer[position]
                let nibble: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
                default: nibble = 0xff
                }
                if nibble == 0xff { break }
                digits += 1
                guard digits <= 16 else { throw error("sigev value has more than 16 hex digits") }
                value = value << 4 | UInt64(nibble)
                position += 1
            }
            guard digits > 0 else {
                throw error("expected the sigev value (hex digits or \"(null)\"), found \"\(rest)\"")
            }
            return (value, digits == 16 ? .padded : .unpadded)
        }

        /// `WHAT/KIND.` of a notify line: the four forms the kernel prints are
        /// matched as bytes (no String per timer); anything else is taken
        /// apart word by word to say what is wrong.
        mutating func notifyMode() throws(ProcTimersParseError) -> NotifyMode {
            for (literal, mode) in Self.notifyForms where matches(literal) {
                position += literal.utf8CodeUnitCount
                return mode
            }
            let what = try word(what: "notify kind")
            try expect(UInt8(ascii: "/"), after: "\"\(EchoedText.cut(what))\"")
            let kind = try word(what: "notify target kind")
            try expect(UInt8(ascii: "."), after: "\"\(EchoedText.cut(kind))\"")
            switch what {
            case "signal", "none", "thread":
                // The kernel accepts SIGEV_THREAD_ID only with SIGEV_SIGNAL
                // (docs/kernel-facts.md section 5), so none/tid or thread/tid never appear.
                if kind == "pid" || kind == "tid" {
                    throw error("notify \"\(what)/\(kind)\" is not a combination the kernel creates")
                }
                throw error("notify target kind \"\(EchoedText.cut(kind))\" is not pid or tid")
            default:
                throw error("notify kind \"\(EchoedText.cut(what))\" is not signal, none or thread")
            }
        }

        static let notifyForms: [(StaticString, NotifyMode)] = [
            ("signal/pid.", .signal), ("signal/tid.", .threadID), ("none/pid.", .none), ("thread/pid.", .thread),
        ]

        /// A run of lowercase letters (notify's WHAT and KIND).
        mutating func word(what: String) throws(ProcTimersParseError) -> String {
            let start = position
            while position < end && buffer[position] >= UInt8(ascii: "a") && buffer[position] <= UInt8(ascii: "z") {
                position += 1
            }
            guard position > start else { throw error("expected the \(what), found \"\(rest)\"") }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self)
        }

        func matches(_ literal: StaticString) -> Bool {
            literal.withUTF8Buffer { p in
                guard end - position >= p.count else { return false }
                for i in 0..<p.count where buffer[position + i] != p[i] { return false }
                return true
            }
        }

        mutating func expect(_ byte: UInt8, after: String) throws(ProcTimersParseError) {
            guard position < end && buffer[position] == byte else {
                throw error("expected \"\(Character(Unicode.Scalar(byte)))\" after \(after), found \"\(rest)\"")
            }
            position += 1
        }

        /// Nothing may follow the last field.
        func finish() throws(ProcTimersParseError) {
            guard position == end else { throw error("unexpected \"\(rest)\" at the end of the line") }
        }
    }
}
