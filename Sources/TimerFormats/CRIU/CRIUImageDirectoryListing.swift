import TimerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What an image directory holds, for the copy `criu fix` / `criu strip`
/// make of it (HostKernel's CRIUImageDirectoryWriter writes the copy).
public enum CRIUImageDirectoryListing {
    /// One entry of the input directory.
    public struct SourceEntry: Hashable, Sendable {
        public enum Kind: Hashable, Sendable {
            case regular(mode: UInt32)
            /// A symlink, copied as the same link (CRIU's `parent` link of an
            /// incremental dump is one; it is relative to the directory).
            case symlink(target: String)
        }
        public var name: String
        public var kind: Kind
    }

    /// The entries of `directory`, refused (naming the entry) when one is
    /// neither a regular file nor a symlink: CRIU writes only those.
    public static func sourceEntries(_ directory: String) throws(CheckpointError) -> [SourceEntry] {
        var entries: [SourceEntry] = []
        for name in try CRIUImageDirectory.fileNames(directory).sorted() {
            let path = CRIUCheckpointReader.join(directory, name)
            var info = stat()
            guard lstat(path, &info) == 0 else { throw CheckpointError(path: path, CRIUImageDirectory.errnoText(errno)) }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                entries.append(SourceEntry(name: name, kind: .regular(mode: UInt32(info.st_mode & 0o7777))))
            case S_IFLNK:
                var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = buffer.withUnsafeMutableBufferPointer { raw in
                    raw.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count) }
                }
                guard count >= 0 else { throw CheckpointError(path: path, "readlink: \(CRIUImageDirectory.errnoText(errno))") }
                entries.append(SourceEntry(name: name, kind: .symlink(target: String(decoding: buffer[..<count], as: UTF8.self))))
            default:
                throw CheckpointError(path: path, "\(kindName(info.st_mode)), not a file: an image directory holds regular files (and CRIU's parent symlink) only")
            }
        }
        return entries
    }

    /// Whether `path` exists (following symlinks).
    public static func exists(_ path: String) -> Bool { CRIUImageDirectory.exists(path) }

    /// A regular file's bytes, with the image reader's checks and size cap.
    public static func readImage(_ path: String) throws(CheckpointError) -> [UInt8] { try CRIUImageDirectory.readImage(path) }

    public static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symlink"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFREG: return "a regular file"
        default: return "a special file"
        }
    }
}
