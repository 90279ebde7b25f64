/// One `posix_timer_entry` of a core image (CRIU images/timer.proto), with the
/// field values as CRIU stored them and the two times already in nanoseconds.
struct CRIUPosixTimer: Hashable {
    /// Field 1 `it_id` (uint32).
    var itID: UInt32
    /// Field 2 `clock_id` (uint32 holding the kernel's int: -6 is 4294967290).
    var clockID: UInt32
    /// Field 3 `si_signo` (uint32; a SIGEV_NONE timer may hold any int).
    var siSigno: UInt32
    /// Field 4 `it_sigev_notify`: 0 signal, 1 none, 2 thread, 4 thread id.
    var itSigevNotify: UInt32
    /// Field 5 `sival_ptr` (uint64).
    var sivalPtr: UInt64
    /// Field 6 `overrun` (uint32).
    var overrun: UInt32
    /// Fields 7 `isec` and 8 `insec` (the interval), in ns.
    var intervalNanoseconds: Int64
    /// Fields 9 `vsec` and 10 `vnsec` (time left at the dump), in ns.
    var valueNanoseconds: Int64
    /// Field 11 `notify_thread_id` (optional int32), written for SIGEV_THREAD_ID.
    var notifyThreadID: Int32?
    /// File offset of the entry's key, for errors found when mapping it.
    var offset: Int
    /// File offsets of the keys of fields 1, 4, 6 and 11, the ones mapping
    /// can refuse (the entry's offset for a field that is absent). Four
    /// integers, not an array: a 64 MiB image holds 1.5 M entries.
    var itIDOffset: Int, notifyOffset: Int, overrunOffset: Int, notifyThreadIDOffset: Int

    func offset(ofField number: Int) -> Int {
        switch number {
        case 1: return itIDOffset
        case 4: return notifyOffset
        case 6: return overrunOffset
        case 11: return notifyThreadIDOffset
        default: return offset
        }
    }
}

/// What timer-criu needs from one `core_entry` (CRIU images/core.proto).
struct CRIUCore {
    /// Whether field 3 `tc` (task_core_entry) is there: CRIU writes it only in
    /// the thread-group leader's core image, so its absence marks a thread's.
    var hasTaskCore: Bool
    /// `tc.timers.posix`, in image order.
    var posixTimers: [CRIUPosixTimer]
    /// Names of the setitimer(2) timers (`tc.timers` real/virt/prof) that are
    /// armed; they are not POSIX timers, so timer-criu only reports them.
    var armedITimers: [String]
}

/// One `pstree_entry` (CRIU images/pstree.proto).
struct CRIUPstreeEntry: Hashable {
    /// Field 1 `pid`.
    var pid: Int32
    /// Field 2 `ppid`.
    var ppid: Int32
    /// Field 5 `threads` (repeated uint32; accepted packed or not).
    var threads: [Int32]
}

enum CRIUImageDecoder {
    static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    /// Decodes a core-TID.img file: one `core_entry`, following
    /// core_entry.tc (3) → task_core_entry.timers (7) → task_timers_entry.posix (4).
    /// A message field that appears twice is merged, as protobuf does (its
    /// repeated `posix` entries are concatenated).
    static func decodeCore(_ bytes: [UInt8]) throws(CRIUDecodeError) -> CRIUCore {
        var image = try CRIUImageFile(bytes: bytes, magic: CRIUMagic.core, kind: "core")
        guard let entry = try image.nextEntry() else {
            throw CRIUDecodeError(offset: 8, "no core_entry after the magics")
        }
        if let second = try image.nextEntry() {
            var count = 2
            while try image.nextEntry() != nil { count += 1 }
            throw CRIUDecodeError(offset: second.lowerBound - 4, "a core image holds one core_entry, this one has \(count)")
        }
        var core = CRIUCore(hasTaskCore: false, posixTimers: [], armedITimers: [])
        var coreReader = ProtobufWireReader(bytes: bytes, range: entry)
        while let field = try coreReader.nextField() {
            guard field.number == 3 else { continue }
            core.hasTaskCore = true
            var taskReader = ProtobufWireReader(bytes: bytes, range: try field.messageRange("core_entry.tc"))
            while let taskField = try taskReader.nextField() {
                guard taskField.number == 7 else { continue }
                var timersReader = ProtobufWireReader(bytes: bytes, range: try taskField.messageRange("task_core_entry.timers"))
                while let timersField = try timersReader.nextField() {
                    switch timersField.number {
                    case 1, 2, 3:
                        let name = ["real", "virt", "prof"][Int(timersField.number) - 1]
                        let range = try timersField.messageRange("task_timers_entry.\(name)")
                        if try isArmedITimer(bytes, range: range), !core.armedITimers.contains(name) {
                            core.armedITimers.append(name)
                        }
                    case 4:
                        let range = try timersField.messageRange("task_timers_entry.posix")
                        core.posixTimers.append(try decodePosixTimer(bytes, range: range, offset: timersField.offset))
                    default:
                        continue
                    }
                }
            }
        }
        return core
    }

    /// An `itimer_entry` (isec 1, iusec 2, vsec 3, vusec 4, all uint64) with a
    /// non-zero value is armed.
    static func isArmedITimer(_ bytes: [UInt8], range: Range<Int>) throws(CRIUDecodeError) -> Bool {
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        var armed = false
        while let field = try reader.nextField() {
            switch field.number {
            case 3: if try field.uint64Value("itimer_entry.vsec") != 0 { armed = true }
            case 4: if try field.uint64Value("itimer_entry.vusec") != 0 { armed = true }
            default: continue
            }
        }
        return armed
    }

    /// One `posix_timer_entry`. Fields 1-10 are `required` in timer.proto: an
    /// entry without one of them is refused, as CRIU's own decoder would.
    static func decodePosixTimer(_ bytes: [UInt8], range: Range<Int>, offset: Int) throws(CRIUDecodeError) -> CRIUPosixTimer {
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        var itID: UInt32?, clockID: UInt32?, siSigno: UInt32?, notify: UInt32?, overrun: UInt32?
        var sival: UInt64?, isec: UInt64?, insec: UInt64?, vsec: UInt64?, vnsec: UInt64?
        var notifyThreadID: Int32?
        var fieldOffsets = (offset, offset, offset, offset, offset, offset) // fields 1, 4, 6, 7, 9, 11
        while let field = try reader.nextField() {
            switch field.number {
            case 1: fieldOffsets.0 = field.offset
            case 4: fieldOffsets.1 = field.offset
            case 6: fieldOffsets.2 = field.offset
            case 7: fieldOffsets.3 = field.offset
            case 9: fieldOffsets.4 = field.offset
            case 11: fieldOffsets.5 = field.offset
            default: break
            }
            switch field.number {
            case 1: itID = try field.uint32Value("it_id")
            case 2: clockID = try field.uint32Value("clock_id")
            case 3: siSigno = try field.uint32Value("si_signo")
            case 4: notify = try field.uint32Value("it_sigev_notify")
            case 5: sival = try field.uint64Value("sival_ptr")
            case 6: overrun = try field.uint32Value("overrun")
            case 7: isec = try field.uint64Value("isec")
            case 8: insec = try nanosecondsField(field, "insec")
            case 9: vsec = try field.uint64Value("vsec")
            case 10: vnsec = try nanosecondsField(field, "vnsec")
            case 11: notifyThreadID = try field.int32Value("notify_thread_id")
            default: continue
            }
        }
        func missing(_ name: String, _ number: Int) -> CRIUDecodeError {
            CRIUDecodeError(offset: offset, "posix_timer_entry without its required field \(number) (\(name))")
        }
        guard let itID else { throw missing("it_id", 1) }
        guard let clockID else { throw missing("clock_id", 2) }
        guard let siSigno else { throw missing("si_signo", 3) }
        guard let notify else { throw missing("it_sigev_notify", 4) }
        guard let sival else { throw missing("sival_ptr", 5) }
        guard let overrun else { throw missing("overrun", 6) }
        guard let isec else { throw missing("isec", 7) }
        guard let insec else { throw missing("insec", 8) }
        guard let vsec else { throw missing("vsec", 9) }
        guard let vnsec else { throw missing("vnsec", 10) }
        return CRIUPosixTimer(
            itID: itID, clockID: clockID, siSigno: siSigno, itSigevNotify: notify, sivalPtr: sival, overrun: overrun,
            intervalNanoseconds: try nanoseconds(seconds: isec, nanoseconds: insec, name: "interval (isec, insec)", offset: fieldOffsets.3),
            valueNanoseconds: try nanoseconds(seconds: vsec, nanoseconds: vnsec, name: "value (vsec, vnsec)", offset: fieldOffsets.4),
            notifyThreadID: notifyThreadID, offset: offset, itIDOffset: fieldOffsets.0, notifyOffset: fieldOffsets.1,
            overrunOffset: fieldOffsets.2, notifyThreadIDOffset: fieldOffsets.5)
    }

    /// insec/vnsec: a tv_nsec, which the kernel keeps below one second
    /// (docs/kernel-facts.md 5b refuses anything else at timer_settime).
    static func nanosecondsField(_ field: ProtobufField, _ name: String) throws(CRIUDecodeError) -> UInt64 {
        let value = try field.uint64Value(name)
        guard value < nanosecondsPerSecond else {
            throw CRIUDecodeError(offset: field.offset, "\(name) \(value) is not below 1000000000")
        }
        return value
    }

    /// seconds * 1e9 + nanoseconds, refused when it does not fit an Int64
    /// (checkpoint times are signed 64-bit nanoseconds).
    static func nanoseconds(seconds: UInt64, nanoseconds: UInt64, name: String, offset: Int) throws(CRIUDecodeError) -> Int64 {
        let (product, productOverflow) = seconds.multipliedReportingOverflow(by: nanosecondsPerSecond)
        let (sum, sumOverflow) = product.addingReportingOverflow(nanoseconds)
        guard !productOverflow, !sumOverflow, let value = Int64(exactly: sum) else {
            throw CRIUDecodeError(offset: offset, "\(name): \(seconds) s does not fit in 64-bit nanoseconds")
        }
        return value
    }

    /// Decodes pstree.img: one `pstree_entry` per process, the root first.
    static func decodePstree(_ bytes: [UInt8]) throws(CRIUDecodeError) -> [CRIUPstreeEntry] {
        var image = try CRIUImageFile(bytes: bytes, magic: CRIUMagic.pstree, kind: "pstree")
        var result: [CRIUPstreeEntry] = []
        while let entry = try image.nextEntry() {
            var reader = ProtobufWireReader(bytes: bytes, range: entry)
            var pid: Int32?, ppid: Int32 = 0
            var threads: [Int32] = []
            while let field = try reader.nextField() {
                switch field.number {
                case 1: pid = try pidValue(field, "pid")
                case 2: ppid = try pidValue(field, "ppid")
                case 5:
                    if field.wireType == .lengthDelimited {
                        // Packed encoding: varints back to back in the payload.
                        var packed = ProtobufWireReader(bytes: bytes, range: field.payload)
                        while !packed.isAtEnd {
                            let valueOffset = packed.position
                            let raw = try packed.readVarint()
                            guard raw > 0, raw <= UInt64(Int32.max) else {
                                throw CRIUDecodeError(offset: valueOffset, "threads: \(raw) is not a thread id (1...2147483647)")
                            }
                            threads.append(Int32(raw))
                        }
                    } else {
                        let tid = try pidValue(field, "threads")
                        guard tid > 0 else {
                            throw CRIUDecodeError(offset: field.offset, "threads: 0 is not a thread id (1...2147483647)")
                        }
                        threads.append(tid)
                    }
                default:
                    continue
                }
            }
            guard let pid, pid > 0 else {
                throw CRIUDecodeError(offset: entry.lowerBound, "pstree_entry without a pid (its required field 1)")
            }
            result.append(CRIUPstreeEntry(pid: pid, ppid: ppid, threads: threads))
        }
        return result
    }

    /// A pid/tid field (uint32 in pstree.proto) as the kernel's pid_t.
    static func pidValue(_ field: ProtobufField, _ name: String) throws(CRIUDecodeError) -> Int32 {
        let raw = try field.uint32Value(name)
        guard raw <= UInt32(Int32.max) else {
            throw CRIUDecodeError(offset: field.offset, "\(name) \(raw) is not a pid (0...2147483647)")
        }
        return Int32(raw)
    }
}
