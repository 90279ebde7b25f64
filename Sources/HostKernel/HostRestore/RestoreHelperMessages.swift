import TimerCore

/// The messages between a host restore's two sides, `HostMachine` (the
/// tool) and `RestoreHelper` (the fresh helper process that restores into
/// itself): the checkpoint goes down as data and the report comes back as
/// data, so neither side parses or prints the other's text. Both sides are
/// the same executable, so the encoding is positional (no field names, no
/// versions): each message is a frame of one kind byte, a 4-byte
/// little-endian length and the payload. Parent to helper on the helper's
/// stdin: `restore`, then `hold` (or the pipe closes). Helper to parent on
/// its fd 3: `report`, then `held`; `refused` when a request cannot be read.
enum RestoreHelperMessage {
    /// What to restore and how; `otherPIDs` maps the dumped pids of the
    /// other processes of a tree to their helpers (CPU clocks naming them).
    case restore(RestoreHelperRequest)
    /// Keep the timers: leave the tool's session and wait until killed.
    case hold
    case report(RestoreReport)
    case held
    case refused(String)

    /// Frames above this are refused (a checkpoint of 90,000 timers is about 6 MB).
    static let maximumLength = 512 << 20

    var kind: UInt8 {
        switch self {
        case .restore: return 1
        case .hold: return 2
        case .report: return 3
        case .held: return 4
        case .refused: return 5
        }
    }

    /// The whole frame.
    /// Written in place: no second copy of a 6 MB checkpoint.
    func frame() -> [UInt8] {
        var writer = MessageWriter()
        writer.u8(kind)
        writer.u32(0)  // the payload's length, set below
        switch self {
        case .restore(let request): request.write(to: &writer)
        case .report(let report): report.write(to: &writer)
        case .refused(let why): writer.string(why)
        case .hold, .held: break
        }
        withUnsafeBytes(of: UInt32(writer.bytes.count - 5).littleEndian) { writer.bytes.replaceSubrange(1..<5, with: $0) }
        return writer.bytes
    }

    /// The 5-byte header: kind and payload length.
    static func header(_ bytes: [UInt8]) throws(MessageError) -> (kind: UInt8, length: Int) {
        var reader = MessageReader(bytes)
        let kind = try reader.u8()
        let length = Int(try reader.u32())
        guard length <= maximumLength else { throw MessageError("frame of \(length) bytes is too long") }
        return (kind, length)
    }

    static func decode(kind: UInt8, payload: [UInt8]) throws(MessageError) -> RestoreHelperMessage {
        var reader = MessageReader(payload)
        let message: RestoreHelperMessage
        switch kind {
        case 1: message = .restore(try RestoreHelperRequest(from: &reader))
        case 2: message = .hold
        case 3: message = .report(try RestoreReport(from: &reader))
        case 4: message = .held
        case 5: message = .refused(try reader.string())
        default: throw MessageError("unknown message kind \(kind)")
        }
        guard reader.isAtEnd else { throw MessageError("\(payload.count - reader.offset) bytes after the message") }
        return message
    }
}

/// `restore`'s payload.
struct RestoreHelperRequest: Equatable {
    var checkpoint: Checkpoint
    var strategy: RestoreStrategy
    var deadThreadNotify: DeadThreadNotifyPolicy
    var otherPIDs: [Int32: Int32]

    func write(to w: inout MessageWriter) {
        checkpoint.write(to: &w)
        w.string(strategy.rawValue)
        w.string(deadThreadNotify.rawValue)
        w.array(otherPIDs.sorted { $0.key < $1.key }) { w, pair in w.i32(pair.key); w.i32(pair.value) }
    }

    init(checkpoint: Checkpoint, strategy: RestoreStrategy, deadThreadNotify: DeadThreadNotifyPolicy,
         otherPIDs: [Int32: Int32]) {
        self.checkpoint = checkpoint
        self.strategy = strategy
        self.deadThreadNotify = deadThreadNotify
        self.otherPIDs = otherPIDs
    }

    init(from r: inout MessageReader) throws(MessageError) {
        checkpoint = try Checkpoint(from: &r)
        strategy = try r.enumeration(RestoreStrategy.self)
        deadThreadNotify = try r.enumeration(DeadThreadNotifyPolicy.self)
        var map: [Int32: Int32] = [:]
        for (old, new) in try r.array({ r throws(MessageError) in (try r.i32(), try r.i32()) }) { map[old] = new }
        otherPIDs = map
    }
}

/// A message that cannot be read (truncated, or a value out of range).
struct MessageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Appends little-endian fixed-width values.
struct MessageWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func int(_ v: Int) { i64(Int64(v)) }
    mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    mutating func string(_ v: String) {
        let utf8 = Array(v.utf8)
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    mutating func array<T>(_ items: [T], _ each: (inout MessageWriter, T) -> Void) {
        u32(UInt32(items.count))
        for item in items { each(&self, item) }
    }
    mutating func optional<T>(_ value: T?, _ write: (inout MessageWriter, T) -> Void) {
        bool(value != nil)
        if let value { write(&self, value) }
    }
}

/// Reads what `MessageWriter` wrote, in the same order.
struct MessageReader {
    let bytes: [UInt8]
    private(set) var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) throws(MessageError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else {
            throw MessageError("truncated at byte \(offset) (\(count) more wanted)")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }
    mutating func u8() throws(MessageError) -> UInt8 { try take(1).first! }
    mutating func u32() throws(MessageError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func u64() throws(MessageError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func i32() throws(MessageError) -> Int32 { Int32(bitPattern: try u32()) }
    mutating func i64() throws(MessageError) -> Int64 { Int64(bitPattern: try u64()) }
    mutating func int() throws(MessageError) -> Int { Int(try i64()) }
    mutating func bool() throws(MessageError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let other: throw MessageError("bool \(other) at byte \(offset - 1)")
        }
    }
    mutating func string() throws(MessageError) -> String {
        let count = Int(try u32())
        return String(decoding: try take(count), as: UTF8.self)
    }
    mutating func enumeration<E: RawRepresentable>(_ type: E.Type) throws(MessageError) -> E where E.RawValue == String {
        let raw = try string()
        guard let value = E(rawValue: raw) else { throw MessageError("unknown \(E.self) '\(raw)'") }
        return value
    }
    mutating func array<T>(_ each: (inout MessageReader) throws(MessageError) -> T) throws(MessageError) -> [T] {
        let count = Int(try u32())
        // Every item takes at least one byte: a corrupt count cannot make a huge reservation.
        guard count <= bytes.count - offset else { throw MessageError("array of \(count) items in \(bytes.count - offset) bytes") }
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try each(&self)) }
        return items
    }
    mutating func optional<T>(_ read: (inout MessageReader) throws(MessageError) -> T) throws(MessageError) -> T? {
        try bool() ? try read(&self) : nil
    }
}

// MARK: the values, in one fixed order each

extension Checkpoint {
    func write(to w: inout MessageWriter) {
        w.string(format); w.i32(pid); w.string(kernel)
        w.array(threads) { $0.i32($1) }
        w.array(timers) { $1.write(to: &$0) }
        w.array(warnings) { $0.string($1) }
        w.optional(timerFDs) { w, fds in w.array(fds) { $1.write(to: &$0) } }
        w.optional(itimers) { $1.write(to: &$0) }
        w.optional(dumpClocks) { w, c in
            w.i64(c.realtimeNanoseconds); w.i64(c.monotonicNanoseconds); w.i64(c.boottimeNanoseconds)
        }
    }

    init(from r: inout MessageReader) throws(MessageError) {
        let format = try r.string()
        let pid = try r.i32()
        let kernel = try r.string()
        let threads = try r.array { r throws(MessageError) in try r.i32() }
        let timers = try r.array { r throws(MessageError) in try CheckpointTimer(from: &r) }
        let warnings = try r.array { r throws(MessageError) in try r.string() }
        self.init(pid: pid, kernel: kernel, threads: threads, timers: timers, warnings: warnings, format: format)
        timerFDs = try r.optional { r throws(MessageError) in
            try r.array { r throws(MessageError) in try CheckpointTimerFD(from: &r) }
        }
        itimers = try r.optional { r throws(MessageError) in try CheckpointITimers(from: &r) }
        dumpClocks = try r.optional { r throws(MessageError) in
            DumpClocks(realtimeNanoseconds: try r.i64(), monotonicNanoseconds: try r.i64(),
                       boottimeNanoseconds: try r.i64())
        }
    }
}

extension CheckpointTimer {
    func write(to w: inout MessageWriter) {
        w.i32(id); w.i32(clockID.rawValue); w.i32(signal); w.u64(sigevValue); w.bool(sigevValueReliable)
        w.string(notify.rawValue); w.i32(notifyTarget)
        w.optional(valueNanoseconds) { $0.i64($1) }
        w.optional(intervalNanoseconds) { $0.i64($1) }
        w.optional(overrun) { $0.i32($1) }
        w.bool(notifyTargetExited)
    }

    init(from r: inout MessageReader) throws(MessageError) {
        let id = try r.i32(), clock = try r.i32(), signal = try r.i32(), value = try r.u64(), reliable = try r.bool()
        let notify = try r.enumeration(NotifyMode.self)
        let target = try r.i32()
        self.init(id: id, clockID: ClockID(clock), signal: signal, sigevValue: value, sigevValueReliable: reliable,
                  notify: notify, notifyTarget: target,
                  valueNanoseconds: try r.optional { r throws(MessageError) in try r.i64() },
                  intervalNanoseconds: try r.optional { r throws(MessageError) in try r.i64() },
                  overrun: try r.optional { r throws(MessageError) in try r.i32() })
        notifyTargetExited = try r.bool()
    }
}

extension CheckpointTimerFD {
    func write(to w: inout MessageWriter) {
        w.i32(fd); w.i32(clockID.rawValue); w.u32(flags); w.u32(settimeFlags); w.u64(ticks)
        w.i64(valueNanoseconds); w.i64(intervalNanoseconds)
    }

    init(from r: inout MessageReader) throws(MessageError) {
        self.init(fd: try r.i32(), clockID: ClockID(try r.i32()), flags: try r.u32(), settimeFlags: try r.u32(),
                  ticks: try r.u64(), valueNanoseconds: try r.i64(), intervalNanoseconds: try r.i64())
    }
}

extension TimerValue {
    func write(to w: inout MessageWriter) { w.i64(valueNanoseconds); w.i64(intervalNanoseconds) }
    init(from r: inout MessageReader) throws(MessageError) {
        self.init(valueNanoseconds: try r.i64(), intervalNanoseconds: try r.i64())
    }
}

extension CheckpointITimers {
    func write(to w: inout MessageWriter) { for which in Which.allCases { self[which].write(to: &w) } }
    init(from r: inout MessageReader) throws(MessageError) {
        self.init(real: try TimerValue(from: &r), virtual: try TimerValue(from: &r), prof: try TimerValue(from: &r))
    }
}

extension RestoreReport {
    func write(to w: inout MessageWriter) {
        w.string(kernel); w.string(strategy.rawValue); w.string(requestedStrategy.rawValue)
        w.i32(processID)
        w.array(threadIDs) { $0.i32($1) }
        for count in [syscalls.timerCreate, syscalls.timerDelete, syscalls.timerSettime, syscalls.timerGettime,
                      syscalls.timerGetoverrun, syscalls.prctl, syscalls.sysctlWrite] { w.int(count) }
        w.array(timers) { $1.write(to: &$0) }
        w.optional(error) { w, failure in
            w.string(failure.code.rawValue); w.string(failure.message)
            w.optional(failure.syscallError) { w, call in
                w.string(call.syscall); w.optional(call.timerID) { $0.i32($1) }
                w.i32(call.errno.rawValue); w.string(call.reason)
            }
        }
        w.array(differences) { $0.string($1) }
        w.array(warnings) { $0.string($1) }
        w.array(notes) { $0.string($1) }
        w.i64(wallNanoseconds)
        w.optional(timerFDs) { w, fds in w.array(fds) { $1.write(to: &$0) } }
        w.optional(itimers) { $1.write(to: &$0) }
        w.optional(timerFDSyscalls) { w, c in
            for count in [c.timerfdCreate, c.dup2, c.close, c.timerfdSettime, c.ioctl, c.setitimer] { w.int(count) }
        }
        w.array(ticksNotRestored.sorted()) { $0.i32($1) }
        w.array(valuesNotDumped.sorted()) { $0.i32($1) }
    }

    init(from r: inout MessageReader) throws(MessageError) {
        let kernel = try r.string()
        let strategy = try r.enumeration(RestoreStrategy.self)
        let requested = try r.enumeration(RestoreStrategy.self)
        let pid = try r.i32()
        let threads = try r.array { r throws(MessageError) in try r.i32() }
        self.init(kernel: kernel, strategy: strategy, requestedStrategy: requested, processID: pid, threadIDs: threads)
        syscalls.timerCreate = try r.int(); syscalls.timerDelete = try r.int(); syscalls.timerSettime = try r.int()
        syscalls.timerGettime = try r.int(); syscalls.timerGetoverrun = try r.int(); syscalls.prctl = try r.int()
        syscalls.sysctlWrite = try r.int()
        timers = try r.array { r throws(MessageError) in try CheckpointTimer(from: &r) }
        error = try r.optional { r throws(MessageError) in
            let code = try r.enumeration(RestoreFailure.Code.self)
            let message = try r.string()
            let call = try r.optional { r throws(MessageError) in
                SyscallError(try r.string(), timerID: try r.optional { r throws(MessageError) in try r.i32() },
                             errno: KernelErrno(rawValue: try r.i32()), reason: try r.string())
            }
            return RestoreFailure(code, message, syscallError: call)
        }
        differences = try r.array { r throws(MessageError) in try r.string() }
        warnings = try r.array { r throws(MessageError) in try r.string() }
        notes = try r.array { r throws(MessageError) in try r.string() }
        wallNanoseconds = try r.i64()
        timerFDs = try r.optional { r throws(MessageError) in
            try r.array { r throws(MessageError) in try CheckpointTimerFD(from: &r) }
        }
        itimers = try r.optional { r throws(MessageError) in try CheckpointITimers(from: &r) }
        timerFDSyscalls = try r.optional { r throws(MessageError) in
            var c = TimerFDSyscallCounts()
            c.timerfdCreate = try r.int(); c.dup2 = try r.int(); c.close = try r.int()
            c.timerfdSettime = try r.int(); c.ioctl = try r.int(); c.setitimer = try r.int()
            return c
        }
        ticksNotRestored = Set(try r.array { r throws(MessageError) in try r.i32() })
        valuesNotDumped = Set(try r.array { r throws(MessageError) in try r.i32() })
    }
}
