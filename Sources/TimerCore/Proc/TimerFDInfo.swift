/// What /proc/PID/fdinfo/N shows of a timerfd (docs/kernel-facts.md section 8):
/// the open file's lines from fs/proc/fd.c, then fs/timerfd.c's timerfd_show().
public struct TimerFDInfo: Hashable, Sendable {
    /// `pos:` (always 0 for a timerfd; kept to render the text back).
    public var position: Int64
    /// `flags:` the open-file flags in octal, O_CLOEXEC included when the fd
    /// has FD_CLOEXEC (02004002 = O_RDWR|O_NONBLOCK|O_CLOEXEC).
    public var fileFlags: UInt32
    /// `mnt_id:` (Linux 3.15+; every timerfd kernel has it).
    public var mountID: Int32
    /// `ino:` (Linux 5.14+): the one anon inode all timerfds share, so it does
    /// not tell two timerfds apart.
    public var inode: UInt64?
    /// `lock:` lines (file locks held through this file), verbatim after the tab.
    public var locks: [String]
    public var clockID: ClockID
    public var ticks: UInt64
    /// `settime flags:` in octal: 1 = TFD_TIMER_ABSTIME, 2 = TFD_TIMER_CANCEL_ON_SET.
    public var settimeFlags: UInt32
    /// `it_value:` the time LEFT (also for an absolute timer), 0 when disarmed
    /// or expired and not yet forwarded.
    public var valueNanoseconds: Int64
    /// `it_interval:`.
    public var intervalNanoseconds: Int64

    public init(position: Int64 = 0, fileFlags: UInt32, mountID: Int32, inode: UInt64?, locks: [String] = [],
                clockID: ClockID, ticks: UInt64, settimeFlags: UInt32, valueNanoseconds: Int64,
                intervalNanoseconds: Int64) {
        self.position = position
        self.fileFlags = fileFlags
        self.mountID = mountID
        self.inode = inode
        self.locks = locks
        self.clockID = clockID
        self.ticks = ticks
        self.settimeFlags = settimeFlags
        self.valueNanoseconds = valueNanoseconds
        self.intervalNanoseconds = intervalNanoseconds
    }
}

/// Parses the text of /proc/PID/fdinfo/N of a timerfd, strictly and byte by
/// byte like `ProcTimersParser` (same error type: the 1-based line and what is
/// wrong there).
///
/// The formats accepted are those of every kernel with timerfd_show (added in
/// 3.17 together with TFD_IOC_SET_TICKS; its five lines have not changed
/// since): `pos:`, `flags:`, `mnt_id:` (3.15+), an optional `ino:` (5.14+),
/// any `lock:` lines (show_fd_locks runs before show_fdinfo), then `clockid:`,
/// `ticks:`, `settime flags:`, `it_value: (S, NS)` and `it_interval: (S, NS)`.
/// Anything else is refused: another file's fdinfo, a cut text, nanoseconds
/// of 10^9 or more, a time past the int64 nanosecond range, unknown settime flags.
public enum TimerFDInfoParser {
    public static func parse(_ bytes: [UInt8]) throws(ProcTimersParseError) -> TimerFDInfo {
        try bytes.withUnsafeBufferPointer { (buffer) throws(ProcTimersParseError) in
            var cursor = ProcTimersParser.Cursor(buffer)
            return try cursor.parseTimerFDInfo()
        }
    }

    public static func parse(_ text: String) throws(ProcTimersParseError) -> TimerFDInfo {
        try parse(Array(text.utf8))
    }

    /// TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET: what the kernel keeps.
    public static let knownSettimeFlags: UInt32 = 3
}

extension ProcTimersParser.Cursor {
    mutating func parseTimerFDInfo() throws(ProcTimersParseError) -> TimerFDInfo {
        var fields = try takeLine(prefix: "pos:\t")
        let filePosition = try fields.decimal(in: 0...Int64.max, what: "file position")
        try fields.finish()

        fields = try takeLine(prefix: "flags:\t")
        let flags = try fields.octal(max: UInt64(UInt32.max), what: "file flags")
        try fields.finish()

        fields = try takeLine(prefix: "mnt_id:\t")
        let mountID = Int32(try fields.decimal(in: 0...Int64(Int32.max), what: "mount id"))
        try fields.finish()

        var inode: UInt64?
        if startsWith("ino:\t") {
            fields = try takeLine(prefix: "ino:\t")
            inode = try fields.unsignedDecimal(what: "inode number")
            try fields.finish()
        }
        var locks: [String] = []
        while startsWith("lock:\t") {
            fields = try takeLine(prefix: "lock:\t")
            locks.append(fields.rest(limit: Int.max))
        }

        fields = try takeLine(prefix: "clockid: ")
        let clock = Int32(try fields.decimal(in: Int64(Int32.min)...Int64(Int32.max), what: "clock id"))
        try fields.finish()

        fields = try takeLine(prefix: "ticks: ")
        let ticks = try fields.unsignedDecimal(what: "tick count")
        try fields.finish()

        fields = try takeLine(prefix: "settime flags: ")
        let settime = UInt32(try fields.octal(max: UInt64(UInt32.max), what: "settime flags"))
        guard settime & ~TimerFDInfoParser.knownSettimeFlags == 0 else {
            throw fields.error("settime flags 0\(String(settime, radix: 8)) has bits other than TFD_TIMER_ABSTIME (1) and TFD_TIMER_CANCEL_ON_SET (2)")
        }
        try fields.finish()

        fields = try takeLine(prefix: "it_value: ")
        let value = try fields.timespecPair(what: "it_value")
        try fields.finish()

        fields = try takeLine(prefix: "it_interval: ")
        let interval = try fields.timespecPair(what: "it_interval")
        try fields.finish()

        guard position == buffer.count else {
            throw ProcTimersParseError(line: line, "unexpected text after it_interval: \"\(ProcTimersParser.Fields.show(buffer, position, min(buffer.count, position + 60)))\"")
        }
        return TimerFDInfo(position: filePosition, fileFlags: UInt32(flags), mountID: mountID, inode: inode,
                           locks: locks, clockID: ClockID(clock), ticks: ticks, settimeFlags: settime,
                           valueNanoseconds: value, intervalNanoseconds: interval)
    }

    func startsWith(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { p in
            guard buffer.count - position >= p.count else { return false }
            for i in 0..<p.count where buffer[position + i] != p[i] { return false }
            return true
        }
    }
}

extension ProcTimersParser.Fields {
    /// `0` followed by octal digits, as the kernel's `0%o` prints.
    mutating func octal(max: UInt64, what: String) throws(ProcTimersParseError) -> UInt64 {
        guard position < end, buffer[position] == UInt8(ascii: "0") else {
            throw error("expected the \(what) in octal with a leading 0, found \"\(rest)\"")
        }
        let start = position
        var value: UInt64 = 0
        while position < end, buffer[position] >= UInt8(ascii: "0"), buffer[position] <= UInt8(ascii: "7") {
            value = value << 3 | UInt64(buffer[position] - UInt8(ascii: "0"))
            guard value <= max else {
                throw error("\(what) \(ProcTimersParser.Fields.show(buffer, start, end)) is more than 32 bits")
            }
            position += 1
        }
        return value
    }

    /// An unsigned decimal up to UInt64.max (%llu, %lu), no sign.
    mutating func unsignedDecimal(what: String) throws(ProcTimersParseError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        while position < end, buffer[position] >= UInt8(ascii: "0"), buffer[position] <= UInt8(ascii: "9") {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(buffer[position] - UInt8(ascii: "0")))
            guard !o1, !o2 else {
                throw error("\(what) \(ProcTimersParser.Fields.show(buffer, start, end)) is past 18446744073709551615")
            }
            value = sum
            position += 1
        }
        guard position > start else { throw error("expected the \(what) (a decimal integer), found \"\(rest)\"") }
        return value
    }

    /// `(SECONDS, NANOSECONDS)` of a timespec64 printed with %llu, in ns.
    mutating func timespecPair(what: String) throws(ProcTimersParseError) -> Int64 {
        try expect(UInt8(ascii: "("), after: "\"\(what): \"")
        // 9223372036 s is the last whole second of an int64 nanosecond count.
        let seconds = try decimal(in: 0...9_223_372_036, what: "\(what) seconds")
        try expect(UInt8(ascii: ","), after: "the \(what) seconds")
        try expect(UInt8(ascii: " "), after: "\",\"")
        let nanoseconds = try decimal(in: 0...999_999_999, what: "\(what) nanoseconds")
        try expect(UInt8(ascii: ")"), after: "the \(what) nanoseconds")
        let (total, overflow) = (seconds * 1_000_000_000).addingReportingOverflow(nanoseconds)
        guard !overflow else { throw error("\(what) (\(seconds), \(nanoseconds)) is past the int64 nanosecond range") }
        return total
    }

    /// The rest of the line, whole (`lock:` lines are kept verbatim).
    func rest(limit: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[position..<end]), as: UTF8.self)
    }
}

/// Renders a timerfd's fdinfo byte for byte as fs/proc/fd.c and fs/timerfd.c
/// print it (the model kernel's /proc/PID/fdinfo/N, and the fuzz round trip).
public enum TimerFDInfoRenderer {
    public static func render(_ info: TimerFDInfo) -> [UInt8] {
        var text = "pos:\t\(info.position)\nflags:\t0\(String(info.fileFlags, radix: 8))\nmnt_id:\t\(info.mountID)\n"
        if let inode = info.inode { text += "ino:\t\(inode)\n" }
        for lock in info.locks { text += "lock:\t\(lock)\n" }
        text += "clockid: \(info.clockID.rawValue)\nticks: \(info.ticks)\n"
        text += "settime flags: 0\(String(info.settimeFlags, radix: 8))\n"
        text += "it_value: \(pair(info.valueNanoseconds))\nit_interval: \(pair(info.intervalNanoseconds))\n"
        return Array(text.utf8)
    }

    static func pair(_ ns: Int64) -> String { "(\(ns / 1_000_000_000), \(ns % 1_000_000_000))" }
}
