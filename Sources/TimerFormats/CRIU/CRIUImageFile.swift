import TimerCore
/// The magics of the CRIU images timer-criu reads (CRIU's criu/include/magic.h;
/// the values are also visible in the first 8 bytes of every image file).
public enum CRIUMagic {
    /// IMG_COMMON_MAGIC ("Sarov"): the first uint32 of every per-task image.
    public static let common: UInt32 = 0x5456_4319
    /// CORE_MAGIC: core-TID.img, one `core_entry` per thread.
    public static let core: UInt32 = 0x5505_3847
    /// PSTREE_MAGIC: pstree.img, one `pstree_entry` per process.
    public static let pstree: UInt32 = 0x5027_3030
    /// IDS_MAGIC: ids-PID.img, the task's kernel object ids (`files_id` names its fdinfo image).
    public static let ids: UInt32 = 0x5443_2030
    /// FDINFO_MAGIC: fdinfo-N.img, one `fdinfo_entry` per open fd.
    public static let fdinfo: UInt32 = 0x5621_3732
    /// FILES_MAGIC: files.img, one `file_entry` per open file (CRIU 3.x and 4.x).
    public static let files: UInt32 = 0x5630_3138
    /// TIMERFD_MAGIC ("Korocha"): timerfd.img, one `timerfd_entry` per timerfd
    /// file: the layout before files.img, which CRIU still reads.
    public static let timerfd: UInt32 = 0x5049_3712
    /// INVENTORY_MAGIC: inventory.img. It has no common magic in front; timer-criu
    /// does not need anything from it.
    public static let inventory: UInt32 = 0x5831_3116
}

/// One CRIU image file, its entries walked one at a time.
///
/// Layout: two little-endian uint32 magics (IMG_COMMON_MAGIC, then the image's
/// own), then entries until the end of the file, each a little-endian uint32
/// length followed by a protobuf message of that many bytes.
///
/// Entries are not collected: a 64 MiB file of zero-length entries would
/// otherwise become 16 M ranges (256 MB) before its first entry is looked at.
struct CRIUImageFile {
    /// The whole file.
    let bytes: [UInt8]
    /// File offset of the next entry's length word.
    private(set) var position = 8

    /// Checks both magics. `kind` names the image in errors ("core", "pstree").
    init(bytes: [UInt8], magic: UInt32, kind: String) throws(CRIUDecodeError) {
        guard bytes.count >= 8 else {
            throw CRIUDecodeError(offset: 0, "\(bytes.count) bytes is too short for a CRIU image (8 bytes of magic come first)")
        }
        let common = Self.uint32LE(bytes, at: 0)
        guard common == CRIUMagic.common else {
            throw CRIUDecodeError(offset: 0, "magic \(Self.hex(common)) is not IMG_COMMON_MAGIC \(Self.hex(CRIUMagic.common)): not a CRIU image")
        }
        let own = Self.uint32LE(bytes, at: 4)
        guard own == magic else {
            throw CRIUDecodeError(offset: 4, "magic \(Self.hex(own)) is not the \(kind) image magic \(Self.hex(magic))")
        }
        self.bytes = bytes
    }

    /// The next entry's protobuf message as file offsets, or nil at the end.
    mutating func nextEntry() throws(CRIUDecodeError) -> Range<Int>? {
        guard position < bytes.count else { return nil }
        let left = bytes.count - position
        guard left >= 4 else {
            throw CRIUDecodeError(offset: position, "truncated entry: \(left) bytes left, an entry starts with a 4-byte length")
        }
        let length = Int(Self.uint32LE(bytes, at: position))
        guard length <= left - 4 else {
            throw CRIUDecodeError(offset: position,
                                  "entry of \(length) bytes runs past the end of the file (\(left - 4) bytes left)")
        }
        let entry = (position + 4)..<(position + 4 + length)
        position = entry.upperBound
        return entry
    }

    static func uint32LE(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
