import SystemPackage
import TimerComparison
import TimerCore
import TimerFormats

#if canImport(Glibc)
import Glibc
#endif

/// The input files timer-criu reads (checkpoints, CRIU images, trees, cost
/// tables, saved /proc files) from the real file system: regular files or
/// stdin only, with a size limit, so that a FIFO, a device or a huge file is
/// refused instead of read. The pure readers of TimerCore and TimerFormats
/// get their bytes from here.
public struct HostInputFiles: InputFiles, Sendable {
    public init() {}

    /// The whole content of the regular file at `path` (symlinks followed),
    /// or of stdin for `-`, refused when larger than `limit` bytes.
    ///
    /// Opened with O_NONBLOCK, so that a FIFO (or a device that waits for a
    /// carrier) is refused by the fstat below instead of blocking open()
    /// until a writer comes, for ever if none does. O_NONBLOCK means
    /// nothing for the read of a regular file.
    public func read(_ path: String, limit: Int, limitText: String) throws(CheckpointError) -> [UInt8] {
        if path == InputFile.standardInputPath {
            return try Self.readAll(.standardInput, sizeHint: 64 << 10, limit: limit, limitText: limitText, path: "stdin")
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly,
                                         options: [.closeOnExec, .nonBlocking, FileDescriptor.OpenOptions(rawValue: O_NOCTTY)])
        } catch {
            throw CheckpointError(path: path, Self.text(error))
        }
        defer { _ = try? fd.close() }
        let info: Stat
        do { info = try fd.stat() } catch { throw CheckpointError(path: path, Self.text(error)) }
        guard info.type == .regular else {
            throw CheckpointError(path: path, "not a regular file (\(Self.typeName(info.type))): refused without reading it")
        }
        guard info.size <= Int64(limit) else {
            throw CheckpointError(path: path, "\(info.size) bytes is more than \(limitText) (refused before reading it)")
        }
        return try Self.readAll(fd, sizeHint: Int(info.size), limit: limit, limitText: limitText, path: path)
    }

    public func fileNames(_ directory: String) throws(CheckpointError) -> [String] {
        do { return try DirectoryListing.names(directory) } catch {
            throw CheckpointError(path: directory, "cannot open the directory: \(Self.text(error))")
        }
    }

    public func isDirectory(_ path: String) -> Bool { (try? FilePath(path).stat())?.type == .directory }

    public func exists(_ path: String) -> Bool { (try? FilePath(path).stat()) != nil }

    /// Reads `fd` to its end, at most `limit` bytes.
    static func readAll(_ fd: FileDescriptor, sizeHint: Int, limit: Int, limitText: String, path: String)
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
            let count: Int
            do {
                count = try bytes.withUnsafeMutableBytes { raw in
                    try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                }
            } catch {
                throw CheckpointError(path: path, text(error))
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

    /// "a FIFO", "a directory", ... for a file type that is not a regular file.
    static func typeName(_ type: FileType) -> String {
        switch type {
        case .fifo: return "a FIFO"
        case .directory: return "a directory"
        case .characterSpecial: return "a character device"
        case .blockSpecial: return "a block device"
        case .socket: return "a socket"
        case .symbolicLink: return "a symlink"
        default: return "file type \(String(type.rawValue, radix: 8))"
        }
    }

    /// "ENOENT: No such file or directory" (swift-system's calls throw Errno).
    static func text(_ error: any Error) -> String {
        KernelErrno(thrown: error).nameAndMessage
    }
}

// The readers on the real file system: what the commands call.

extension CheckpointSource {
    /// How `load(path:)` reads `path` (see `kind(of:files:)`).
    public static func kind(of path: String) -> Kind { kind(of: path, files: HostInputFiles()) }

    /// The checkpoint at `path`, whatever its kind (see `load(path:files:)`).
    public static func load(path: String) throws(CheckpointError) -> Checkpoint {
        try load(path: path, files: HostInputFiles())
    }

    /// The single checkpoint or the tree at `path` (see `loadCheckpointOrTree(path:files:)`).
    public static func loadCheckpointOrTree(path: String) throws(CheckpointError) -> CheckpointInput {
        try loadCheckpointOrTree(path: path, files: HostInputFiles())
    }
}

extension CheckpointTree {
    public static func isTreeDirectory(_ path: String) -> Bool { isTreeDirectory(path, files: HostInputFiles()) }

    public static func looksLikeTreeWithoutIndex(_ path: String) -> Bool {
        looksLikeTreeWithoutIndex(path, files: HostInputFiles())
    }

    public static func load(directory: String) throws(CheckpointError) -> CheckpointTree {
        try load(directory: directory, files: HostInputFiles())
    }
}

extension CRIUCheckpointReader {
    public static func loadDirectory(_ path: String) throws(CheckpointError) -> Checkpoint {
        try loadDirectory(path, files: HostInputFiles())
    }

    public static func loadCoreImage(_ path: String) throws(CheckpointError) -> Checkpoint {
        try loadCoreImage(path, files: HostInputFiles())
    }
}

extension CRIUImageEditor {
    public static func fix(directory: String, deadThreadNotify: CRIUDeadThreadNotify) throws(CheckpointError) -> CRIUImageEdit {
        try fix(directory: directory, deadThreadNotify: deadThreadNotify, files: HostInputFiles())
    }

    public static func strip(directory: String) throws(CheckpointError) -> CRIUImageEdit {
        try strip(directory: directory, files: HostInputFiles())
    }
}

extension Checkpoint {
    public static func fromProcFile(path: String, pid: Int32?) throws(CheckpointError) -> Checkpoint {
        try fromProcFile(path: path, pid: pid, files: HostInputFiles())
    }
}

extension SyscallCosts {
    public static func load(path: String) throws(CostsFileError) -> SyscallCosts {
        try load(path: path, files: HostInputFiles())
    }
}
