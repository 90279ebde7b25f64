import SystemPackage
import TimerCore
import TimerFormats

#if canImport(Glibc)
import Glibc
#endif

/// What an image directory holds, for the copy `criu fix` / `criu strip`
/// make of it (CRIUImageDirectoryWriter writes the copy).
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
        for name in try HostInputFiles().fileNames(directory).sorted() {
            let path = CRIUCheckpointReader.join(directory, name)
            let info: Stat
            do { info = try FilePath(path).stat(followTargetSymlink: false) } catch {
                throw CheckpointError(path: path, HostInputFiles.text(error))
            }
            switch info.type {
            case .regular:
                entries.append(SourceEntry(name: name, kind: .regular(mode: UInt32(info.permissions.rawValue & 0o7777))))
            case .symbolicLink:
                var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = buffer.withUnsafeMutableBufferPointer { raw in
                    raw.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count) }
                }
                guard count >= 0 else {
                    throw CheckpointError(path: path, "readlink: \(KernelErrno.current.nameAndMessage)")
                }
                entries.append(SourceEntry(name: name, kind: .symlink(target: String(decoding: buffer[..<count], as: UTF8.self))))
            default:
                throw CheckpointError(path: path, "\(kindName(info.type)), not a file: an image directory holds regular files (and CRIU's parent symlink) only")
            }
        }
        return entries
    }

    /// Whether `path` exists (following symlinks).
    public static func exists(_ path: String) -> Bool { HostInputFiles().exists(path) }

    /// A regular file's bytes, with the image reader's checks and size cap.
    public static func readImage(_ path: String) throws(CheckpointError) -> [UInt8] {
        try CRIUImageDirectory.readImage(path, files: HostInputFiles())
    }

    public static func kindName(_ type: FileType) -> String {
        switch type {
        case .directory: return "a directory"
        case .symbolicLink: return "a symlink"
        case .fifo: return "a FIFO"
        case .characterSpecial: return "a character device"
        case .blockSpecial: return "a block device"
        case .socket: return "a socket"
        case .regular: return "a regular file"
        default: return "a special file"
        }
    }
}
