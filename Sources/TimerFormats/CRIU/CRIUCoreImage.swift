import TimerCore
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
    /// The setitimer(2) timers (`tc.timers` real 1, virt 2, prof 3); nil
    /// when the image has none of the three.
    var itimers: CheckpointITimers?
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
        var core = CRIUCore(hasTaskCore: false, posixTimers: [], itimers: nil)
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
                        var itimers = core.itimers ?? CheckpointITimers()
                        itimers[CheckpointITimers.Which(rawValue: Int32(timersField.number) - 1)!] =
                            try decodeITimer(bytes, range: range, name: name, offset: timersField.offset)
                        core.itimers = itimers
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

    /// An `itimer_entry`: isec 1, iusec 2 (the interval), vsec 3, vusec 4
    /// (time left), all required uint64 in timer.proto.
    static func decodeITimer(_ bytes: [UInt8], range: Range<Int>, name: String, offset: Int) throws(CRIUDecodeError) -> TimerValue {
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        var isec: UInt64?, iusec: UInt64?, vsec: UInt64?, vusec: UInt64?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: isec = try field.uint64Value("itimer_entry.isec")
            case 2: iusec = try field.uint64Value("itimer_entry.iusec")
            case 3: vsec = try field.uint64Value("itimer_entry.vsec")
            case 4: vusec = try field.uint64Value("itimer_entry.vusec")
            default: continue
            }
        }
        guard let isec, let iusec, let vsec, let vusec else {
            throw CRIUDecodeError(offset: offset, "itimer_entry \(name) without its required isec, iusec, vsec and vusec")
        }
        func microseconds(_ seconds: UInt64, _ us: UInt64, _ what: String) throws(CRIUDecodeError) -> Int64 {
            guard us < 1_000_000 else {
                throw CRIUDecodeError(offset: offset, "itimer_entry \(name): \(what) \(us) is not below 1000000")
            }
            return try nanoseconds(seconds: seconds, nanoseconds: us * 1000, name: "itimer \(name)", offset: offset)
        }
        return TimerValue(valueNanoseconds: try microseconds(vsec, vusec, "vusec"),
                          intervalNanoseconds: try microseconds(isec, iusec, "iusec"))
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

/// A timerfd of a CRIU checkpoint: its `timerfd_entry` (images/timerfd.proto,
/// inside files.img's `file_entry` field 12 `tfd`) joined to its fd by the
/// task's fdinfo image.
extension CRIUImageDecoder {
    /// ids-PID.img: `task_kobj_ids_entry` field 2 `files_id`.
    static func decodeFilesID(_ bytes: [UInt8]) throws(CRIUDecodeError) -> UInt32? {
        var image = try CRIUImageFile(bytes: bytes, magic: CRIUMagic.ids, kind: "ids")
        guard let entry = try image.nextEntry() else { return nil }
        var reader = ProtobufWireReader(bytes: bytes, range: entry)
        var filesID: UInt32?
        while let field = try reader.nextField() {
            guard field.number == 2 else { continue }
            filesID = try field.uint32Value("task_kobj_ids_entry.files_id")
        }
        return filesID
    }

    /// fdinfo-N.img: (file id, fd, FD_CLOEXEC) of every fd whose `type` (3) is TIMERFD (17).
    static func decodeTimerFDInfos(_ bytes: [UInt8]) throws(CRIUDecodeError) -> [(id: UInt32, fd: Int32, closeOnExec: Bool)] {
        var image = try CRIUImageFile(bytes: bytes, magic: CRIUMagic.fdinfo, kind: "fdinfo")
        var found: [(id: UInt32, fd: Int32, closeOnExec: Bool)] = []
        while let entry = try image.nextEntry() {
            var reader = ProtobufWireReader(bytes: bytes, range: entry)
            var id: UInt32?, flags: UInt32 = 0, type: UInt32?, fd: UInt32?
            while let field = try reader.nextField() {
                switch field.number {
                case 1: id = try field.uint32Value("fdinfo_entry.id")
                case 2: flags = try field.uint32Value("fdinfo_entry.flags")
                case 3: type = try field.uint32Value("fdinfo_entry.type")
                case 4: fd = try field.uint32Value("fdinfo_entry.fd")
                default: continue
                }
            }
            guard let id, let type, let fd else {
                throw CRIUDecodeError(offset: entry.lowerBound, "fdinfo_entry without its required id, type and fd")
            }
            guard type == timerFDType else { continue }
            guard fd <= UInt32(Int32.max) else { throw CRIUDecodeError(offset: entry.lowerBound, "fd \(fd) is past 2147483647") }
            found.append((id, Int32(fd), flags & 1 != 0))
        }
        return found
    }

    /// fd_types TIMERFD (images/fdinfo.proto).
    static let timerFDType: UInt32 = 17

    /// files.img: the `timerfd_entry` (file_entry field 12) of every TIMERFD file, by file id.
    static func decodeTimerFDFiles(_ bytes: [UInt8]) throws(CRIUDecodeError) -> [UInt32: CheckpointTimerFD] {
        var image = try CRIUImageFile(bytes: bytes, magic: CRIUMagic.files, kind: "files")
        var found: [UInt32: CheckpointTimerFD] = [:]
        while let entry = try image.nextEntry() {
            var reader = ProtobufWireReader(bytes: bytes, range: entry)
            while let field = try reader.nextField() {
                guard field.number == 12 else { continue }
                let range = try field.messageRange("file_entry.tfd")
                let (id, timerFD) = try decodeTimerFDEntry(bytes, range: range, offset: field.offset)
                found[id] = timerFD
            }
        }
        return found
    }

    /// timerfd.img (the legacy layout): one `timerfd_entry` per entry, by file
    /// id; a file id twice is refused (CRIU would collect it twice).
    static func decodeLegacyTimerFDFiles(_ bytes: [UInt8]) throws(CRIUDecodeError) -> [UInt32: CheckpointTimerFD] {
        var image = try CRIUImageFile(bytes: bytes, magic: CRIUMagic.timerfd, kind: "timerfd")
        var found: [UInt32: CheckpointTimerFD] = [:]
        while let entry = try image.nextEntry() {
            let (id, timerFD) = try decodeTimerFDEntry(bytes, range: entry, offset: entry.lowerBound)
            guard found.updateValue(timerFD, forKey: id) == nil else {
                throw CRIUDecodeError(offset: entry.lowerBound, "timerfd_entry id \(id) appears twice")
            }
        }
        return found
    }

    /// `timerfd_entry`: id 1, flags 2 (open-file flags without O_CLOEXEC), fown 3,
    /// clockid 4, ticks 5, settime_flags 6, vsec 7, vnsec 8 (time left), isec 9, insec 10.
    static func decodeTimerFDEntry(_ bytes: [UInt8], range: Range<Int>, offset: Int) throws(CRIUDecodeError) -> (UInt32, CheckpointTimerFD) {
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        var id: UInt32?, flags: UInt32?, clock: UInt32?, ticks: UInt64?, settime: UInt32?
        var vsec: UInt64?, vnsec: UInt64?, isec: UInt64?, insec: UInt64?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: id = try field.uint32Value("timerfd_entry.id")
            case 2: flags = try field.uint32Value("timerfd_entry.flags")
            case 4: clock = try field.uint32Value("timerfd_entry.clockid")
            case 5: ticks = try field.uint64Value("timerfd_entry.ticks")
            case 6: settime = try field.uint32Value("timerfd_entry.settime_flags")
            case 7: vsec = try field.uint64Value("timerfd_entry.vsec")
            case 8: vnsec = try nanosecondsField(field, "timerfd_entry.vnsec")
            case 9: isec = try field.uint64Value("timerfd_entry.isec")
            case 10: insec = try nanosecondsField(field, "timerfd_entry.insec")
            default: continue
            }
        }
        guard let id, let flags, let clock, let ticks, let settime, let vsec, let vnsec, let isec, let insec else {
            throw CRIUDecodeError(offset: offset, "timerfd_entry without one of its required fields 1, 2, 4-10")
        }
        guard settime & ~TimerFDInfoParser.knownSettimeFlags == 0 else {
            throw CRIUDecodeError(offset: offset, "timerfd_entry settime_flags 0x\(String(settime, radix: 16)) has unknown bits")
        }
        guard ticks <= UInt64(Int64.max) else { throw CRIUDecodeError(offset: offset, "timerfd_entry ticks \(ticks) is past 2^63-1") }
        let timerFD = CheckpointTimerFD(
            fd: -1, clockID: ClockID(Int32(bitPattern: clock)), flags: flags & ~CheckpointTimerFD.O_ACCMODE,
            settimeFlags: settime, ticks: ticks,
            valueNanoseconds: try nanoseconds(seconds: vsec, nanoseconds: vnsec, name: "timerfd value", offset: offset),
            intervalNanoseconds: try nanoseconds(seconds: isec, nanoseconds: insec, name: "timerfd interval", offset: offset))
        return (id, timerFD)
    }
}
