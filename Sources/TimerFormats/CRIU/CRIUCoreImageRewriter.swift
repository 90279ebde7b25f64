import TimerCore
/// What `criu fix` / `criu strip` do to one `posix_timer_entry`.
enum CRIUPosixTimerEdit: Equatable {
    case keep
    /// The entry leaves the core image (strip).
    case remove
    /// `it_sigev_notify` (field 4) becomes this value and `notify_thread_id`
    /// (field 11) is left out: CRIU writes field 11 only for SIGEV_THREAD_ID.
    case renotify(UInt32)
}

/// Rewrites the POSIX timers of a core-TID.img and nothing else: the magics,
/// every other field of core_entry, task_core_entry and task_timers_entry
/// (unknown ones included) and every other field of an edited timer keep
/// their bytes and order; only the edited fields and the lengths of the
/// messages around them (core_entry.tc, tc.timers, the entry's uint32 frame)
/// change.
enum CRIUCoreImageRewriter {
    /// `bytes` with `edits[i]` applied to the i-th posix_timer_entry in image
    /// order (the order `CRIUImageDecoder.decodeCore` lists them in).
    static func rewrite(_ bytes: [UInt8], edits: [CRIUPosixTimerEdit]) throws(CRIUDecodeError) -> [UInt8] {
        if edits.allSatisfy({ $0 == .keep }) { return bytes }
        var image = try CRIUImageFile(bytes: bytes, magic: CRIUMagic.core, kind: "core")
        guard let entry = try image.nextEntry() else { throw CRIUDecodeError(offset: 8, "no core_entry after the magics") }
        if let second = try image.nextEntry() {
            throw CRIUDecodeError(offset: second.lowerBound - 4, "a core image holds one core_entry, this one has more")
        }
        var index = 0
        func timersEntry(_ field: ProtobufField) throws(CRIUDecodeError) -> ProtobufWireWriter.FieldEdit? {
            // task_timers_entry: 4 posix (repeated posix_timer_entry).
            guard field.number == 4 else { return nil }
            let range = try field.messageRange("task_timers_entry.posix")
            guard index < edits.count else {
                throw CRIUDecodeError(offset: field.offset, "posix_timer_entry \(index) has no edit (the image changed while being read)")
            }
            let edit = edits[index]
            index += 1
            switch edit {
            case .keep: return nil
            case .remove: return .drop
            case .renotify(let notify):
                return .payload(try ProtobufWireWriter.rewrite(bytes, range: range) { timerField throws(CRIUDecodeError) in
                    switch timerField.number {
                    case 4: return .varint(UInt64(notify))
                    case 11: return .drop
                    default: return nil
                    }
                })
            }
        }
        func taskCore(_ field: ProtobufField) throws(CRIUDecodeError) -> ProtobufWireWriter.FieldEdit? {
            // task_core_entry: 7 timers (task_timers_entry).
            guard field.number == 7 else { return nil }
            let range = try field.messageRange("task_core_entry.timers")
            return .payload(try ProtobufWireWriter.rewrite(bytes, range: range, edit: timersEntry))
        }
        let message = try ProtobufWireWriter.rewrite(bytes, range: entry) { field throws(CRIUDecodeError) in
            // core_entry: 3 tc (task_core_entry).
            guard field.number == 3 else { return nil }
            let range = try field.messageRange("core_entry.tc")
            return .payload(try ProtobufWireWriter.rewrite(bytes, range: range, edit: taskCore))
        }
        guard index == edits.count else {
            throw CRIUDecodeError(offset: entry.lowerBound, "\(edits.count) timer edits for \(index) posix_timer_entry fields")
        }
        guard message.count <= Int(UInt32.max) else {
            throw CRIUDecodeError(offset: entry.lowerBound - 4, "core_entry of \(message.count) bytes does not fit its uint32 frame")
        }
        var out = Array(bytes[0..<(entry.lowerBound - 4)])
        let length = UInt32(message.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
        out.append(contentsOf: message)
        out.append(contentsOf: bytes[entry.upperBound...])
        return out
    }
}
