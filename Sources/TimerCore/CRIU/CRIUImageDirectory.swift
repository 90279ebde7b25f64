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

    /// The path that means standard input, for every command's input.
    static let standardInputPath = "-"

    /// The whole content of a regular file (or of stdin for `-`), refused
    /// when larger than `maximumImageSize`.
    static func readFile(_ path: String) throws(CheckpointError) -> [UInt8] {
        try readFile(path, limit: maximumImageSize, limitText: "the \(maximumImageSize >> 20) MiB a CRIU image file may have")
    }

    /// The whole content of the regular file at `path` (symlinks followed),
    /// or of stdin for `-`, refused when larger than `limit` bytes;
    /// `limitText` says what the limit is ("the 64 MiB a CRIU image file may have").
    ///
    /// Opened with O_NONBLOCK, so that a FIFO (or a device that waits for a
    /// carrier) is refused by the fstat below instead of blocking open()
    /// until a writer comes, for ever if none does. O_NONBLOCK means
    /// nothing for the read of a regular file.
    static func readFile(_ path: String, limit: Int, limitText: String) throws(CheckpointError) -> [UInt8] {
        if path == standardInputPath {
            return try readAll(fd: 0, sizeHint: 64 << 10, limit: limit, limitText: limitText, path: "stdin")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw CheckpointError(path: path, errnoText(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CheckpointError(path: path, errnoText(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError(path: path, "not a regular file (\(fileTypeName(info.st_mode))): refused without reading it")
        }
        guard info.st_size <= limit else {
            throw CheckpointError(path: path, "\(info.st_size) bytes is more than \(limitText) (refused before reading it)")
        }
        return try readAll(fd: fd, sizeHint: Int(info.st_size), limit: limit, limitText: limitText, path: path)
    }

    /// Reads `fd` to its end, at most `limit` bytes.
    static func readAll(fd: Int32, sizeHint: Int, limit: Int, limitText: String, path: String)
        throws(CheckpointError) -> [UInt8]
    {
        // Read straight into a buffer of the file's size (plus room to notice
        // growth): no second copy of a 6 MB file.
        var bytes = [UInt8](repeating: 0, count: sizeHint + 1)
        var filled = 0
        while true {
            if filled == bytes.count {
                guard bytes.count <= limit else {
                    throw CheckpointError(path: path, "grew past \(limitText) while being read")
                }
                bytes.append(contentsOf: repeatElement(0, count: 64 << 10))
            }
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(path: path, errnoText(errno))
            }
            if count == 0 { break }
            filled += count
        }
        guard filled <= limit else {
            throw CheckpointError(path: path, "grew past \(limitText) while being read")
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// "a FIFO", "a directory", ... for the S_IFMT bits of `mode`.
    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "file type \(String(mode & S_IFMT, radix: 8))"
        }
    }

    /// "ENOENT: No such file or directory", the way the rest of timer-criu names errnos.
    static func errnoText(_ value: Int32) -> String {
        let kernelErrno = KernelErrno(rawValue: value)
        return "\(kernelErrno.name): \(kernelErrno.message)"
    }
}
