import TimerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the files of a CRIU image directory that timer-criu needs:
/// pstree.img and the core-TID.img files. Nothing else is opened.
enum CRIUImageDirectory {
    /// Image files larger than this are refused before they are read: a core
    /// image is a few KiB, plus about 60 bytes per POSIX timer.
    static let maximumImageSize = 64 << 20

    /// The file names of `directory` (without "." and "..").
    static func fileNames(_ directory: String) throws(CheckpointError) -> [String] {
        guard let dir = opendir(directory) else {
            throw CheckpointError(path: directory, "cannot open the directory: \(errnoText(errno))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// The tid of a `core-TID.img` file name (decimal, 1...INT_MAX), else nil.
    static func coreTID(fileName: String) -> Int32? {
        guard fileName.hasPrefix("core-"), fileName.hasSuffix(".img") else { return nil }
        let digits = fileName.dropFirst(5).dropLast(4)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits.first != "0", let tid = Int32(digits) else { return nil }
        return tid
    }

    /// Whether `path` names a directory (following symlinks).
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `path` exists (following symlinks).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// An image file's bytes (or stdin's for `-`), refused when larger than
    /// `maximumImageSize`.
    static func readImage(_ path: String) throws(CheckpointError) -> [UInt8] {
        try InputFile.read(path, limit: maximumImageSize, limitText: "the \(maximumImageSize >> 20) MiB a CRIU image file may have")
    }

    /// "ENOENT: No such file or directory", the way the rest of timer-criu names errnos.
    static func errnoText(_ value: Int32) -> String {
        KernelErrno(rawValue: value).nameAndMessage
    }
}
