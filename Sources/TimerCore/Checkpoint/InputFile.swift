#if canImport(Glibc)
import Glibc
#endif

/// Reads the files timer-criu takes as input (checkpoints, CRIU images, cost
/// tables, scripts): regular files or stdin only, with a size limit, so that
/// a FIFO, a device or a huge file is refused instead of read.
package enum InputFile {
    /// The path that means standard input, for every command's input.
    package static let standardInputPath = "-"

    /// How errors name an input: `-` is "stdin".
    public static func displayName(_ path: String) -> String {
        path == standardInputPath ? "stdin" : path
    }

    /// Input files larger than this are refused before they are read (a
    /// checkpoint of 90,000 timers is about 6 MiB).
    package static let maximumSize = 64 << 20

    /// The whole content of a regular file (or of stdin for `-`), refused
    /// when larger than `maximumSize`.
    package static func read(_ path: String) throws(CheckpointError) -> [UInt8] {
        try read(path, limit: maximumSize, limitText: "the \(maximumSize >> 20) MiB an input file may have")
    }

    /// The whole content of the regular file at `path` (symlinks followed),
    /// or of stdin for `-`, refused when larger than `limit` bytes;
    /// `limitText` says what the limit is ("the 64 MiB a CRIU image file may have").
    ///
    /// Opened with O_NONBLOCK, so that a FIFO (or a device that waits for a
    /// carrier) is refused by the fstat below instead of blocking open()
    /// until a writer comes, for ever if none does. O_NONBLOCK means
    /// nothing for the read of a regular file.
    package static func read(_ path: String, limit: Int, limitText: String) throws(CheckpointError) -> [UInt8] {
        if path == standardInputPath {
            return try readAll(fd: 0, sizeHint: 64 << 10, limit: limit, limitText: limitText, path: "stdin")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw CheckpointError(path: path, errnoText) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CheckpointError(path: path, errnoText) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError(path: path, "not a regular file (\(fileTypeName(info.st_mode))): refused without reading it")
        }
        guard info.st_size <= limit else {
            throw CheckpointError(path: path, "\(info.st_size) bytes is more than \(limitText) (refused before reading it)")
        }
        return try readAll(fd: fd, sizeHint: Int(info.st_size), limit: limit, limitText: limitText, path: path)
    }

    /// Reads `fd` to its end, at most `limit` bytes.
    package static func readAll(fd: Int32, sizeHint: Int, limit: Int, limitText: String, path: String)
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
            let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(path: path, errnoText)
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
    package static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "file type \(String(mode & S_IFMT, radix: 8))"
        }
    }

    /// "ENOENT: No such file or directory" for the current errno.
    private static var errnoText: String { KernelErrno(rawValue: errno).nameAndMessage }
}
