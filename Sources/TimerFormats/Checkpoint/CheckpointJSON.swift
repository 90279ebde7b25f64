import TimerCore
/// The `timer-criu/1` JSON text of a checkpoint (docs/format.md,
/// docs/timer-criu-1.schema.json): written by hand so that the key order is
/// fixed, each timer is one line, and 90,000 timers need no Foundation.
extension Checkpoint {
    /// The checkpoint as JSON text, ending with a newline.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + timers.count * 160)
        appendJSON(to: &out, flushingPast: .max) { _ in }
        return out
    }

    /// The same text handed to `write` in pieces of about `chunkSize` bytes,
    /// through one reused buffer: 90,000 timers make 13 MB of JSON, and the
    /// page faults of a buffer that size cost more than the writing
    /// (docs/performance.md).
    public func writeJSON(chunkSize: Int = 1 << 16, to write: (UnsafeRawBufferPointer) -> Void) {
        var out: [UInt8] = []
        out.reserveCapacity(chunkSize + 1024)
        appendJSON(to: &out, flushingPast: chunkSize) { out in
            out.withUnsafeBytes(write)
            out.removeAll(keepingCapacity: true)
        }
        out.withUnsafeBytes(write)
    }

    /// Appends the text to `out`, calling `flush` whenever `out` holds more
    /// than `limit` bytes (between timers); the caller writes what is left.
    private func appendJSON(to out: inout [UInt8], flushingPast limit: Int, flush: (inout [UInt8]) -> Void) {
        JSONWriter.appendRaw("{\n  \"format\": ", to: &out)
        JSONWriter.appendString(writtenFormat, to: &out)
        JSONWriter.appendRaw(",\n  \"pid\": ", to: &out)
        JSONWriter.appendInteger(pid, to: &out)
        JSONWriter.appendRaw(",\n  \"kernel\": ", to: &out)
        JSONWriter.appendString(kernel, to: &out)
        JSONWriter.appendRaw(",\n  \"threads\": [", to: &out)
        for (i, tid) in threads.enumerated() {
            if i > 0 { JSONWriter.appendRaw(", ", to: &out) }
            JSONWriter.appendInteger(tid, to: &out)
        }
        JSONWriter.appendRaw("],\n  \"timers\": [", to: &out)
        for (i, timer) in timers.enumerated() {
            JSONWriter.appendRaw(i == 0 ? "\n    " : ",\n    ", to: &out)
            timer.appendJSON(to: &out)
            if out.count > limit { flush(&out) }
        }
        JSONWriter.appendRaw(timers.isEmpty ? "]" : "\n  ]", to: &out)
        appendOtherTimersJSON(to: &out)
        JSONWriter.appendRaw(",\n  \"warnings\": [", to: &out)
        for (i, warning) in warnings.enumerated() {
            JSONWriter.appendRaw(i == 0 ? "\n    " : ",\n    ", to: &out)
            JSONWriter.appendString(warning, to: &out)
            if out.count > limit { flush(&out) }
        }
        JSONWriter.appendRaw(warnings.isEmpty ? "]\n}\n" : "\n  ]\n}\n", to: &out)
    }

    public var jsonText: String { String(decoding: jsonBytes(), as: UTF8.self) }

    /// The format read (a timer-criu/1 file stays /1), but /2 as soon as it
    /// holds what only /2 has.
    var writtenFormat: String {
        timerFDs != nil || itimers != nil || dumpClocks != nil ? Checkpoint.formatName : format
    }

    /// `timerfds`, `itimers` and `clocks_at_dump`, each only when read.
    private func appendOtherTimersJSON(to out: inout [UInt8]) {
        if let timerFDs {
            JSONWriter.appendRaw(",\n  \"timerfds\": [", to: &out)
            for (i, timerFD) in timerFDs.enumerated() {
                JSONWriter.appendRaw(i == 0 ? "\n    " : ",\n    ", to: &out)
                timerFD.appendJSON(to: &out)
            }
            JSONWriter.appendRaw(timerFDs.isEmpty ? "]" : "\n  ]", to: &out)
        }
        if let itimers {
            JSONWriter.appendRaw(",\n  \"itimers\": ", to: &out)
            itimers.appendJSON(to: &out)
        }
        if let dumpClocks {
            JSONWriter.appendRaw(",\n  \"clocks_at_dump\": {\"realtime_ns\": ", to: &out)
            JSONWriter.appendInteger(dumpClocks.realtimeNanoseconds, to: &out)
            JSONWriter.appendRaw(", \"monotonic_ns\": ", to: &out)
            JSONWriter.appendInteger(dumpClocks.monotonicNanoseconds, to: &out)
            JSONWriter.appendRaw(", \"boottime_ns\": ", to: &out)
            JSONWriter.appendInteger(dumpClocks.boottimeNanoseconds, to: &out)
            JSONWriter.appendRaw("}", to: &out)
        }
    }

    /// Reads a `timer-criu/1` checkpoint, checking every field; the error names
    /// the file and the field, e.g. `cp.json: timers[3].id: 2147483648 is
    /// outside 0...2147483647`. Timers come back sorted by id.
    public init(json bytes: [UInt8], path: String? = nil) throws(CheckpointError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw CheckpointError(path: path, "not JSON: \(error)")
        }
        var reader = CheckpointReader(path: path)
        self = try reader.checkpoint(document)
    }
}

extension CheckpointTimerFD {
    /// One timerfd as a one-line JSON object, keys in the documented order.
    public func appendJSON(to out: inout [UInt8]) {
        JSONWriter.appendRaw("{\"fd\": ", to: &out)
        JSONWriter.appendInteger(fd, to: &out)
        JSONWriter.appendRaw(", \"clock_id\": ", to: &out)
        JSONWriter.appendInteger(clockID.rawValue, to: &out)
        JSONWriter.appendRaw(", \"clock\": ", to: &out)
        JSONWriter.appendString(clockID.name, to: &out)
        JSONWriter.appendRaw(", \"flags\": ", to: &out)
        JSONWriter.appendString(flagsHex, to: &out)
        JSONWriter.appendRaw(", \"settime_flags\": ", to: &out)
        JSONWriter.appendInteger(Int64(settimeFlags), to: &out)
        JSONWriter.appendRaw(", \"ticks\": ", to: &out)
        JSONWriter.appendInteger(ticks, to: &out)
        JSONWriter.appendRaw(", \"value_ns\": ", to: &out)
        JSONWriter.appendInteger(valueNanoseconds, to: &out)
        JSONWriter.appendRaw(", \"interval_ns\": ", to: &out)
        JSONWriter.appendInteger(intervalNanoseconds, to: &out)
        JSONWriter.appendRaw("}", to: &out)
    }
}

extension CheckpointITimers {
    /// `{"real": {"value_ns": N, "interval_ns": N}, "virtual": {...}, "prof": {...}}`.
    public func appendJSON(to out: inout [UInt8]) {
        for which in Which.allCases {
            switch which {
            case .real: JSONWriter.appendRaw("{\"real\": {\"value_ns\": ", to: &out)
            case .virtual: JSONWriter.appendRaw(", \"virtual\": {\"value_ns\": ", to: &out)
            case .prof: JSONWriter.appendRaw(", \"prof\": {\"value_ns\": ", to: &out)
            }
            JSONWriter.appendInteger(self[which].valueNanoseconds, to: &out)
            JSONWriter.appendRaw(", \"interval_ns\": ", to: &out)
            JSONWriter.appendInteger(self[which].intervalNanoseconds, to: &out)
            JSONWriter.appendRaw("}", to: &out)
        }
        JSONWriter.appendRaw("}", to: &out)
    }
}

extension CheckpointTimer {
    /// One timer as a one-line JSON object (keys in the documented order).
    /// Built in a stack buffer and appended once: an Array append per field
    /// was most of the time of writing 90,000 timers (docs/performance.md).
    public func appendJSON(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: JSONLine.capacity) { buffer in
            var line = JSONLine(buffer.baseAddress!)
            line.raw("{\"id\": ")
            line.integer(id)
            line.raw(", \"clock_id\": ")
            line.integer(clockID.rawValue)
            line.raw(", \"clock\": ")
            line.string(clockID.name)
            line.raw(", \"signal\": ")
            line.integer(signal)
            line.raw(", \"sigev_value\": \"")
            line.hex16(sigevValue)                  // = sigevValueHex, without a String per timer
            line.raw("\"")
            if !sigevValueReliable { line.raw(", \"sigev_value_reliable\": false") }
            line.raw(", \"notify\": ")
            line.string(notify.rawValue)
            line.raw(", \"notify_target\": ")
            line.integer(notifyTarget)
            if notifyTargetExited { line.raw(", \"notify_target_exited\": true") }
            if let valueNanoseconds {
                line.raw(", \"value_ns\": ")
                line.integer(valueNanoseconds)
            }
            if let intervalNanoseconds {
                line.raw(", \"interval_ns\": ")
                line.integer(intervalNanoseconds)
            }
            if let overrun {
                line.raw(", \"overrun\": ")
                line.integer(overrun)
            }
            line.raw("}")
            out.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress!, count: line.count))
        }
    }

    /// Parses `sigev_value`'s form, the schema's `^0x[0-9a-fA-F]{1,16}$`:
    /// "0x" and 1 to 16 hex digits. Nothing else: `UInt64(_:radix:)` alone
    /// would also take a sign ("0x+1", "0x-0").
    public static func parseSigevValue(_ text: String) -> UInt64? {
        let utf8 = text.utf8
        guard utf8.count >= 3, utf8.count <= 18, utf8.starts(with: "0x".utf8) else { return nil }
        return hexDigits(utf8.dropFirst(2))
    }

    /// The value of 1 to 16 hex digits (either case), or nil for anything else.
    public static func hexDigits<S: Collection>(_ digits: S) -> UInt64? where S.Element == UInt8 {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}

/// Checks a parsed document field by field; `at` paths read like
/// `timers[3].id`.
struct CheckpointReader {
    let path: String?

    func fail(_ at: String, _ problem: String) -> CheckpointError {
        CheckpointError(path: path, at.isEmpty ? problem : "\(at): \(problem)")
    }

    func members(_ value: JSONValue, at: String, allowed: Set<String>) throws(CheckpointError) -> [(String, JSONValue)] {
        guard case let .object(members) = value else { throw fail(at, "expected an object, found \(value.kindName)") }
        for (key, _) in members where !allowed.contains(key) {
            throw fail(at, "unknown field \"\(EchoedText.cut(key))\"")
        }
        return members
    }

    func required(_ value: JSONValue, _ key: String, at: String) throws(CheckpointError) -> JSONValue {
        guard let v = value[key] else { throw fail(at, "missing field \"\(key)\"") }
        return v
    }

    func integer(_ value: JSONValue, at: String, in range: ClosedRange<Int64>) throws(CheckpointError) -> Int64 {
        guard case let .number(text) = value else { throw fail(at, "expected an integer, found \(value.kindName)") }
        guard let n = Int64(text) else {
            throw fail(at, "\(EchoedText.cut(text)) is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        guard range.contains(n) else { throw fail(at, "\(n) is outside \(range.lowerBound)...\(range.upperBound)") }
        return n
    }

    func string(_ value: JSONValue, at: String) throws(CheckpointError) -> String {
        guard case let .string(s) = value else { throw fail(at, "expected a string, found \(value.kindName)") }
        return s
    }

    static let int32Range = Int64(Int32.min)...Int64(Int32.max)
    static let idRange = Int64(0)...Int64(Int32.max)
    static let pidRange = Int64(1)...Int64(Int32.max)

    static let topKeys: Set<String> = ["format", "pid", "kernel", "threads", "timers", "warnings"]
    /// timer-criu/2 adds these.
    static let topKeys2: Set<String> = topKeys.union(["timerfds", "itimers", "clocks_at_dump"])
    static let timerFDKeys: Set<String> = [
        "fd", "clock_id", "clock", "flags", "settime_flags", "ticks", "value_ns", "interval_ns",
    ]
    static let itimerKeys: Set<String> = ["real", "virtual", "prof"]
    static let itimerValueKeys: Set<String> = ["value_ns", "interval_ns"]
    static let clockKeys: Set<String> = ["realtime_ns", "monotonic_ns", "boottime_ns"]
    static let nsRange = Int64(0)...Int64.max
    static let timerKeys: Set<String> = [
        "id", "clock_id", "clock", "signal", "sigev_value", "sigev_value_reliable", "notify", "notify_target",
        "notify_target_exited", "value_ns", "interval_ns", "overrun",
    ]

    mutating func checkpoint(_ document: JSONValue) throws(CheckpointError) -> Checkpoint {
        guard case .object = document else { throw fail("", "expected an object, found \(document.kindName)") }
        let format = try string(try required(document, "format", at: ""), at: "format")
        guard Checkpoint.readableFormats.contains(format) else {
            throw fail("format", "\"\(EchoedText.cut(format))\" is not \(Checkpoint.readableFormats.joined(separator: " or "))")
        }
        let isVersion2 = format == "timer-criu/2"
        _ = try members(document, at: "", allowed: isVersion2 ? Self.topKeys2 : Self.topKeys)
        let pid = Int32(try integer(try required(document, "pid", at: ""), at: "pid", in: Self.pidRange))
        let kernel = try string(try required(document, "kernel", at: ""), at: "kernel")

        var threads: [Int32] = [pid]
        if let value = document["threads"] {
            guard case let .array(items) = value else { throw fail("threads", "expected an array, found \(value.kindName)") }
            // The schema's minItems 1; the main thread first is the one rule
            // here the schema cannot state (docs/format.md).
            guard !items.isEmpty else { throw fail("threads", "is empty: the process's own pid \(pid) comes first") }
            threads = []
            threads.reserveCapacity(items.count)
            var seen = Set<Int32>()
            for (i, item) in items.enumerated() {
                let tid = Int32(try integer(item, at: "threads[\(i)]", in: Self.pidRange))
                guard seen.insert(tid).inserted else { throw fail("threads[\(i)]", "thread \(tid) appears twice") }
                threads.append(tid)
            }
            guard threads[0] == pid else {
                throw fail("threads[0]", seen.contains(pid)
                    ? "\(threads[0]), but the main thread (the pid, \(pid)) comes first"
                    : "\(threads[0]), but the main thread (the pid, \(pid)) comes first and is not listed")
            }
        }

        let timersValue = try required(document, "timers", at: "")
        guard case let .array(items) = timersValue else {
            throw fail("timers", "expected an array, found \(timersValue.kindName)")
        }
        var timers: [CheckpointTimer] = []
        timers.reserveCapacity(items.count)
        var firstIndexOfID: [Int32: Int] = [:]
        for (i, item) in items.enumerated() {
            let timer = try self.timer(item, at: "timers[\(i)]")
            if let other = firstIndexOfID.updateValue(i, forKey: timer.id) {
                throw fail("timers[\(i)].id", "\(timer.id) appears twice (also timers[\(other)])")
            }
            timers.append(timer)
        }
        timers.sort { $0.id < $1.id }

        var warnings: [String] = []
        if let value = document["warnings"] {
            guard case let .array(items) = value else { throw fail("warnings", "expected an array, found \(value.kindName)") }
            for (i, item) in items.enumerated() { warnings.append(try string(item, at: "warnings[\(i)]")) }
        }
        var checkpoint = Checkpoint(pid: pid, kernel: kernel, threads: threads, timers: timers, warnings: warnings,
                                    format: format)
        if let value = document["timerfds"] {
            guard case let .array(items) = value else { throw fail("timerfds", "expected an array, found \(value.kindName)") }
            var timerFDs: [CheckpointTimerFD] = []
            var firstIndexOfFD: [Int32: Int] = [:]
            for (i, item) in items.enumerated() {
                let timerFD = try self.timerFD(item, at: "timerfds[\(i)]")
                if let other = firstIndexOfFD.updateValue(i, forKey: timerFD.fd) {
                    throw fail("timerfds[\(i)].fd", "\(timerFD.fd) appears twice (also timerfds[\(other)])")
                }
                timerFDs.append(timerFD)
            }
            checkpoint.timerFDs = timerFDs.sorted { $0.fd < $1.fd }
        }
        if let value = document["itimers"] {
            _ = try members(value, at: "itimers", allowed: Self.itimerKeys)
            var itimers = CheckpointITimers()
            for which in CheckpointITimers.Which.allCases {
                let at = "itimers.\(which.name)"
                let entry = try required(value, which.name, at: "itimers")
                _ = try members(entry, at: at, allowed: Self.itimerValueKeys)
                itimers[which] = TimerValue(
                    valueNanoseconds: try integer(try required(entry, "value_ns", at: at), at: "\(at).value_ns", in: Self.nsRange),
                    intervalNanoseconds: try integer(try required(entry, "interval_ns", at: at), at: "\(at).interval_ns",
                                                     in: Self.nsRange))
            }
            checkpoint.itimers = itimers
        }
        if let value = document["clocks_at_dump"] {
            _ = try members(value, at: "clocks_at_dump", allowed: Self.clockKeys)
            func reading(_ key: String) throws(CheckpointError) -> Int64 {
                try integer(try required(value, key, at: "clocks_at_dump"), at: "clocks_at_dump.\(key)", in: Self.nsRange)
            }
            checkpoint.dumpClocks = DumpClocks(realtimeNanoseconds: try reading("realtime_ns"),
                                               monotonicNanoseconds: try reading("monotonic_ns"),
                                               boottimeNanoseconds: try reading("boottime_ns"))
        }
        // Required, as in the schema; checked last so that a file's other
        // faults are named first.
        _ = try required(document, "warnings", at: "")
        return checkpoint
    }

    /// Open-file flags a timerfd can have: O_NONBLOCK and O_CLOEXEC (restored),
    /// and what fcntl(F_SETFL) can add (O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME).
    static let timerFDFlagMask: UInt32 = CheckpointTimerFD.O_NONBLOCK | CheckpointTimerFD.O_CLOEXEC
        | 0o2000 | 0o20000 | 0o40000 | 0o1000000

    func timerFD(_ value: JSONValue, at: String) throws(CheckpointError) -> CheckpointTimerFD {
        _ = try members(value, at: at, allowed: Self.timerFDKeys)
        let fd = Int32(try integer(try required(value, "fd", at: at), at: "\(at).fd", in: Self.idRange))
        let clock = ClockID(Int32(try integer(try required(value, "clock_id", at: at), at: "\(at).clock_id",
                                              in: Self.int32Range)))
        if let problem = CheckpointTimerFD.clockRefusal(clock) { throw fail("\(at).clock_id", "\(clock.rawValue) is \(problem)") }
        if let nameValue = value["clock"] {
            let name = try string(nameValue, at: "\(at).clock")
            guard name == clock.name else {
                throw fail("\(at).clock", "\"\(name)\" does not match clock_id \(clock.rawValue) (\(clock.name))")
            }
        }
        let flagsText = try string(try required(value, "flags", at: at), at: "\(at).flags")
        guard let flags64 = CheckpointTimer.parseSigevValue(flagsText), flags64 <= UInt64(UInt32.max) else {
            throw fail("\(at).flags", "\"\(flagsText)\" is not \"0x\" and 1 to 8 hex digits")
        }
        let flags = UInt32(flags64)
        guard flags & ~Self.timerFDFlagMask == 0 else {
            throw fail("\(at).flags", "\(flagsText) has bits a timerfd's open file cannot have (only O_NONBLOCK 0x800, O_CLOEXEC 0x80000, O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME; no access mode)")
        }
        let settime = UInt32(try integer(try required(value, "settime_flags", at: at), at: "\(at).settime_flags", in: 0...3))
        let ticks = UInt64(try integer(try required(value, "ticks", at: at), at: "\(at).ticks", in: Self.nsRange))
        let valueNS = try integer(try required(value, "value_ns", at: at), at: "\(at).value_ns", in: Self.nsRange)
        let intervalNS = try integer(try required(value, "interval_ns", at: at), at: "\(at).interval_ns", in: Self.nsRange)
        return CheckpointTimerFD(fd: fd, clockID: clock, flags: flags, settimeFlags: settime, ticks: ticks,
                                 valueNanoseconds: valueNS, intervalNanoseconds: intervalNS)
    }

    func timer(_ value: JSONValue, at: String) throws(CheckpointError) -> CheckpointTimer {
        _ = try members(value, at: at, allowed: Self.timerKeys)
        let id = Int32(try integer(try required(value, "id", at: at), at: "\(at).id", in: Self.idRange))
        let clock = ClockID(Int32(try integer(try required(value, "clock_id", at: at), at: "\(at).clock_id",
                                              in: Self.int32Range)))
        let name = try string(try required(value, "clock", at: at), at: "\(at).clock")
        guard name == clock.name else {
            throw fail("\(at).clock", "\"\(EchoedText.cut(name))\" does not match clock_id \(clock.rawValue) (\(clock.name))")
        }
        let signal = Int32(try integer(try required(value, "signal", at: at), at: "\(at).signal", in: Self.int32Range))
        let sivalText = try string(try required(value, "sigev_value", at: at), at: "\(at).sigev_value")
        guard let sival = CheckpointTimer.parseSigevValue(sivalText) else {
            throw fail("\(at).sigev_value", "\"\(EchoedText.cut(sivalText))\" is not \"0x\" and 1 to 16 hex digits")
        }
        var reliable = true
        if let r = value["sigev_value_reliable"] {
            guard case let .bool(b) = r else {
                throw fail("\(at).sigev_value_reliable", "expected a boolean, found \(r.kindName)")
            }
            reliable = b
        }
        let notifyText = try string(try required(value, "notify", at: at), at: "\(at).notify")
        guard let notify = NotifyMode(rawValue: notifyText) else {
            throw fail("\(at).notify", "\"\(EchoedText.cut(notifyText))\" is not signal, none, thread or thread_id")
        }
        let target = Int32(try integer(try required(value, "notify_target", at: at), at: "\(at).notify_target",
                                       in: Self.idRange))
        var targetExited = false
        if let e = value["notify_target_exited"] {
            guard case let .bool(b) = e else {
                throw fail("\(at).notify_target_exited", "expected a boolean, found \(e.kindName)")
            }
            targetExited = b
        }
        let nsRange = Int64(0)...Int64.max
        let valueNS = try value["value_ns"].map { (v) throws(CheckpointError) in try integer(v, at: "\(at).value_ns", in: nsRange) }
        let intervalNS = try value["interval_ns"].map { (v) throws(CheckpointError) in
            try integer(v, at: "\(at).interval_ns", in: nsRange)
        }
        let overrun = try value["overrun"].map { (v) throws(CheckpointError) in
            Int32(try integer(v, at: "\(at).overrun", in: Self.idRange))
        }
        var timer = CheckpointTimer(id: id, clockID: clock, signal: signal, sigevValue: sival,
                                    sigevValueReliable: reliable, notify: notify, notifyTarget: target,
                                    valueNanoseconds: valueNS, intervalNanoseconds: intervalNS, overrun: overrun)
        timer.notifyTargetExited = targetExited
        return timer
    }
}

extension Checkpoint {
    /// Refuses, before anything is written, a checkpoint whose JSON text is
    /// more than a reader accepts (`path`: where it was to go, for the message).
    /// Cheap for every real dump: the text is only built when an upper bound
    /// of its size passes the limit.
    public func checkWritable(path: String?) throws(CheckpointError) {
        let bound = 1024 + kernel.utf8.count * 6 + threads.count * 12 + timers.count * Self.maximumTimerLineBytes
            + warnings.reduce(0) { $0 + 8 + $1.utf8.count * 6 }  // an escaped byte takes at most 6
        guard bound > Self.maximumFileSize else { return }
        let byteCount = jsonBytes().count
        guard byteCount <= Self.maximumFileSize else {
            throw CheckpointError(path: path, "the checkpoint of \(timers.count) timers would be \(byteCount) bytes, more than the \(Self.maximumFileSize >> 20) MiB a timer-criu/1 file may have (timer-criu could not read it back): nothing written")
        }
    }
}
