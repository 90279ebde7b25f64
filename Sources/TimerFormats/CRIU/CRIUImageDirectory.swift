import TimerCore

/// The files of a CRIU image directory that timer-criu needs: pstree.img
/// and the core-TID.img files. Nothing else is read.
package enum CRIUImageDirectory {
    /// Image files larger than this are refused before they are read: a core
    /// image is a few KiB, plus about 60 bytes per POSIX timer.
    package static let maximumImageSize = 64 << 20

    /// The tid of a `core-TID.img` file name (decimal, 1...INT_MAX), else nil.
    package static func coreTID(fileName: String) -> Int32? {
        guard fileName.hasPrefix("core-"), fileName.hasSuffix(".img") else { return nil }
        let digits = fileName.dropFirst(5).dropLast(4)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits.first != "0", let tid = Int32(digits) else { return nil }
        return tid
    }

    /// An image file's bytes (or stdin's for `-`), refused when larger than
    /// `maximumImageSize`.
    package static func readImage(_ path: String, files: some InputFiles) throws(CheckpointError) -> [UInt8] {
        try files.read(path, limit: maximumImageSize, limitText: "the \(maximumImageSize >> 20) MiB a CRIU image file may have")
    }
}
