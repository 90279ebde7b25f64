import TimerCore
/// A problem found while decoding the bytes of one CRIU image file: the byte
/// offset in that file and what is wrong there. The loader turns it into a
/// CheckpointError naming the file: `core-10177.img: byte 37: varint longer than 10 bytes`.
struct CRIUDecodeError: Error, Equatable {
    var offset: Int
    var problem: String

    init(offset: Int, _ problem: String) {
        self.offset = offset
        self.problem = problem
    }
}

/// The protobuf wire types (protobuf.dev "Encoding"). CRIU's images use only
/// varint and length-delimited fields, but a reader must skip the others.
enum ProtobufWireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// One field of a protobuf message, as found on the wire.
struct ProtobufField {
    /// The field number from the key (1...2^29-1).
    var number: UInt32
    var wireType: ProtobufWireType
    /// File offset of the field's key (for error messages).
    var offset: Int
    /// The value of a varint, fixed32 or fixed64 field (0 for length-delimited).
    var value: UInt64
    /// The payload of a length-delimited field, as file offsets (empty otherwise).
    var payload: Range<Int>
}

/// Reads protobuf fields from a range of a file's bytes, one at a time.
///
/// Every read is bounds-checked against the message's end, and every length is
/// compared before it is added, so a corrupted image ends in a CRIUDecodeError,
/// never in a trap. Offsets in errors are offsets in the whole file.
struct ProtobufWireReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    /// Reads the message occupying `range` of `bytes` (the whole image file).
    init(bytes: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    /// The next field, or nil at the end of the message. Unknown fields are
    /// returned like known ones: the caller ignores numbers it does not use,
    /// which is how protobuf skips them (their bytes are already consumed).
    mutating func nextField() throws(CRIUDecodeError) -> ProtobufField? {
        guard position < end else { return nil }
        let keyOffset = position
        let key = try readVarint()
        guard key <= UInt64(UInt32.max) else {
            throw CRIUDecodeError(offset: keyOffset, "field key \(key) does not fit in 32 bits")
        }
        let number = UInt32(key >> 3)
        guard number != 0 else {
            throw CRIUDecodeError(offset: keyOffset, "field number 0 is not valid protobuf")
        }
        guard let wireType = ProtobufWireType(rawValue: UInt8(key & 7)) else {
            throw CRIUDecodeError(offset: keyOffset, "field \(number): wire type \(key & 7) does not exist")
        }
        var field = ProtobufField(number: number, wireType: wireType, offset: keyOffset, value: 0, payload: position..<position)
        switch wireType {
        case .varint:
            field.value = try readVarint()
        case .fixed64:
            field.value = try readLittleEndian(byteCount: 8, field: number)
        case .fixed32:
            field.value = try readLittleEndian(byteCount: 4, field: number)
        case .lengthDelimited:
            let lengthOffset = position
            let length = try readVarint()
            let left = end - position
            guard length <= UInt64(left) else {
                throw CRIUDecodeError(offset: lengthOffset,
                                      "field \(number): length \(length) runs past the end of its message (\(left) bytes left)")
            }
            let start = position
            position += Int(length)
            field.payload = start..<position
        case .startGroup, .endGroup:
            // Groups are deprecated proto2 syntax; no CRIU message has one.
            throw CRIUDecodeError(offset: keyOffset, "field \(number): wire type \(wireType.rawValue) (group) is not used by CRIU images")
        }
        return field
    }

    /// A base-128 varint: at most 10 bytes, and the 10th may only carry bit 63.
    mutating func readVarint() throws(CRIUDecodeError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<10 {
            guard position < end else {
                throw CRIUDecodeError(offset: start, "varint cut off by the end of its message")
            }
            let byte = bytes[position]
            position += 1
            if index == 9 {
                if byte & 0x80 != 0 {
                    throw CRIUDecodeError(offset: start, "varint longer than 10 bytes")
                }
                if byte > 1 {
                    throw CRIUDecodeError(offset: start, "varint does not fit in 64 bits")
                }
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        // Unreachable: the 10th byte either ends the varint or throws above.
        throw CRIUDecodeError(offset: start, "varint longer than 10 bytes")
    }

    private mutating func readLittleEndian(byteCount: Int, field: UInt32) throws(CRIUDecodeError) -> UInt64 {
        guard end - position >= byteCount else {
            throw CRIUDecodeError(offset: position,
                                  "field \(field): \(byteCount)-byte value cut off by the end of its message (\(end - position) bytes left)")
        }
        var value: UInt64 = 0
        for index in 0..<byteCount {
            value |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        position += byteCount
        return value
    }
}

/// Typed views of a field's value, each refusing what the .proto type cannot hold.
extension ProtobufField {
    /// The field's value for a varint-typed scalar (uint32, uint64, int32, enum, bool).
    func varintValue(_ name: String) throws(CRIUDecodeError) -> UInt64 {
        guard wireType == .varint else {
            throw CRIUDecodeError(offset: offset, "\(name) (field \(number)): wire type \(wireType.rawValue), expected a varint (0)")
        }
        return value
    }

    /// A `uint32` field. protobuf would silently keep the low 32 bits; an image
    /// with more is corrupt, so it is refused instead.
    func uint32Value(_ name: String) throws(CRIUDecodeError) -> UInt32 {
        let raw = try varintValue(name)
        guard raw <= UInt64(UInt32.max) else {
            throw CRIUDecodeError(offset: offset, "\(name) \(raw) does not fit in uint32")
        }
        return UInt32(raw)
    }

    /// A `uint64` field.
    func uint64Value(_ name: String) throws(CRIUDecodeError) -> UInt64 {
        try varintValue(name)
    }

    /// An `int32` field: negative values are sign-extended to 10-byte varints.
    func int32Value(_ name: String) throws(CRIUDecodeError) -> Int32 {
        let raw = Int64(bitPattern: try varintValue(name))
        guard let value = Int32(exactly: raw) else {
            throw CRIUDecodeError(offset: offset, "\(name) \(raw) does not fit in int32")
        }
        return value
    }

    /// An embedded message's bytes (wire type 2).
    func messageRange(_ name: String) throws(CRIUDecodeError) -> Range<Int> {
        guard wireType == .lengthDelimited else {
            throw CRIUDecodeError(offset: offset, "\(name) (field \(number)): wire type \(wireType.rawValue), expected a message (2)")
        }
        return payload
    }
}
