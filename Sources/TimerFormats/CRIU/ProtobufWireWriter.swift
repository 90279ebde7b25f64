import TimerCore
/// Re-encodes protobuf messages at the wire level: the fields a caller edits
/// are written anew, every other field (unknown ones included) is copied byte
/// for byte, in its original order. Varints are written in their shortest
/// form, as protobuf-c (which writes CRIU's images) does.
enum ProtobufWireWriter {
    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    /// What to do with one field of a message being rewritten.
    enum FieldEdit {
        /// Leave the field out.
        case drop
        /// Write the field with this varint value (same key, wire type 0).
        case varint(UInt64)
        /// Write the field with this payload (same key, wire type 2, new length).
        case payload([UInt8])
    }

    /// The key bytes of `field` exactly as they are in the file.
    static func keyBytes(_ bytes: [UInt8], of field: ProtobufField) -> ArraySlice<UInt8> {
        var end = field.offset
        while bytes[end] & 0x80 != 0 { end += 1 }
        return bytes[field.offset...end]
    }

    /// The message in `range` of `bytes` with `edit` applied to each field in
    /// turn (nil keeps the field's bytes as they are).
    static func rewrite(_ bytes: [UInt8], range: Range<Int>,
                        edit: (ProtobufField) throws(CRIUDecodeError) -> FieldEdit?) throws(CRIUDecodeError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var reader = ProtobufWireReader(bytes: bytes, range: range)
        var fieldStart = reader.position
        while let field = try reader.nextField() {
            let fieldEnd = reader.position
            switch try edit(field) {
            case nil:
                out.append(contentsOf: bytes[fieldStart..<fieldEnd])
            case .drop:
                break
            case .varint(let value):
                guard field.wireType == .varint else {
                    throw CRIUDecodeError(offset: field.offset, "field \(field.number): wire type \(field.wireType.rawValue), expected a varint (0)")
                }
                out.append(contentsOf: keyBytes(bytes, of: field))
                appendVarint(value, to: &out)
            case .payload(let payload):
                guard field.wireType == .lengthDelimited else {
                    throw CRIUDecodeError(offset: field.offset, "field \(field.number): wire type \(field.wireType.rawValue), expected a message (2)")
                }
                if payload.elementsEqual(bytes[field.payload]) {
                    out.append(contentsOf: bytes[fieldStart..<fieldEnd])
                } else {
                    out.append(contentsOf: keyBytes(bytes, of: field))
                    appendVarint(UInt64(payload.count), to: &out)
                    out.append(contentsOf: payload)
                }
            }
            fieldStart = fieldEnd
        }
        return out
    }
}
