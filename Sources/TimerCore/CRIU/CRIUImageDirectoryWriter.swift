#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes the copy of an image directory that `criu fix` / `criu strip` make,
/// whole or not at all: every file goes into a temporary sibling directory
/// `.OUT.tmp-PID` (copied byte for byte, or its rewritten bytes, with its
/// permission bits), each fsync'ed; then the directory is renamed to OUT.
/// rename(2) replaces an empty directory and refuses a full one, so OUT is
/// either absent, or empty, or the complete copy.
public enum CRIUImageDirectoryWriter {
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

    /// Why `output` may not be written: something other than an empty
    /// directory is there (a symlink, even to an empty directory, is never
    /// replaced). nil when absent or an empty directory.
    public static func refusal(of output: String) -> String? {
        var info = stat()
        guard lstat(output, &info) == 0 else {
            return errno == ENOENT ? nil : "lstat: \(CRIUImageDirectory.errnoText(errno))"
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return "it exists and is \(kindName(info.st_mode)) (never replaced)"
        }
        guard let names = try? CRIUImageDirectory.fileNames(output) else { return "cannot read the directory" }
        return names.isEmpty ? nil : "the directory exists and is not empty (it is never overwritten)"
    }

    /// Writes the copy of `edit.directory` (its `entries`) with the edit applied, to `output`.
    public static func write(_ edit: CRIUImageEdit, entries: [SourceEntry], to output: String) throws(TreeWriteError) {
        var target = output
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
        if let problem = refusal(of: target) { throw TreeWriteError(path: output, problem) }
        for name in edit.addedFiles.keys where entries.contains(where: { $0.name == name }) {
            throw TreeWriteError(path: output, "\(edit.directory) already has a \(name) (was it written by timer-criu before?)")
        }

        let slash = target.lastIndex(of: "/")
        let parent = slash.map { String(target[...$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let temporary = "\(parent).\(base).tmp-\(getpid())"
        guard mkdir(temporary, 0o700) == 0 else {
            throw TreeWriteError(path: output, "mkdir(\(temporary)): \(CRIUImageDirectory.errnoText(errno))")
        }
        var written: [String] = []
        func abandon(_ problem: String) -> TreeWriteError {
            for file in written { unlink(file) }
            rmdir(temporary)
            return TreeWriteError(path: output, problem)
        }
        for entry in entries {
            let destination = "\(temporary)/\(entry.name)"
            let source = CRIUCheckpointReader.join(edit.directory, entry.name)
            let problem: String?
            switch entry.kind {
            case .symlink(let linkTarget):
                problem = symlink(linkTarget, destination) == 0 ? nil : "symlink(\(destination)): \(CRIUImageDirectory.errnoText(errno))"
            case .regular(let mode):
                if let bytes = edit.rewrittenFiles[entry.name] {
                    problem = writeFile(bytes, to: destination, mode: mode)
                } else {
                    problem = copyFile(from: source, to: destination, mode: mode)
                }
            }
            written.append(destination)
            if let problem { throw abandon(problem) }
        }
        for (name, bytes) in edit.addedFiles.sorted(by: { $0.key < $1.key }) {
            let destination = "\(temporary)/\(name)"
            let problem = writeFile(bytes, to: destination, mode: 0o644)
            written.append(destination)
            if let problem { throw abandon(problem) }
        }
        var info = stat()
        let mode = stat(edit.directory, &info) == 0 ? info.st_mode & 0o7777 : 0o755
        if chmod(temporary, mode) != 0 { throw abandon("chmod(\(temporary)): \(CRIUImageDirectory.errnoText(errno))") }
        if let problem = CheckpointTreeWriter.syncDirectory(temporary) { throw abandon(problem) }
        guard rename(temporary, target) == 0 else {
            let e = errno
            let why = e == ENOTEMPTY || e == EEXIST || e == ENOTDIR
                ? "something was put there meanwhile" : CRIUImageDirectory.errnoText(e)
            throw abandon("rename(\(temporary), \(target)): \(why)")
        }
        _ = CheckpointTreeWriter.syncDirectory(parent.isEmpty ? "." : parent)
    }

    static func writeFile(_ bytes: [UInt8], to path: String, mode: UInt32) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        if fd < 0 { return "open(\(path)): \(CRIUImageDirectory.errnoText(errno))" }
        let problem = bytes.withUnsafeBytes { writeAll(fd, $0, path: path) } ?? finish(fd, path: path, mode: mode)
        close(fd)
        return problem
    }

    /// A byte-for-byte copy in 1 MiB pieces (memory images can be gigabytes).
    static func copyFile(from source: String, to path: String, mode: UInt32) -> String? {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if input < 0 { return "open(\(source)): \(CRIUImageDirectory.errnoText(errno))" }
        defer { close(input) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        if fd < 0 { return "open(\(path)): \(CRIUImageDirectory.errnoText(errno))" }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return "read(\(source)): \(CRIUImageDirectory.errnoText(errno))"
            }
            if count == 0 { break }
            if let problem = buffer.withUnsafeBytes({ writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<count]), path: path) }) {
                return problem
            }
        }
        return finish(fd, path: path, mode: mode)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) -> String? {
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            #else
            let n = Darwin.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            #endif
            if n < 0 {
                if errno == EINTR { continue }
                return "write(\(path)): \(CRIUImageDirectory.errnoText(errno))"
            }
            offset += n
        }
        return nil
    }

    /// The source's permission bits (open's mode is masked by the umask), then fsync.
    static func finish(_ fd: Int32, path: String, mode: UInt32) -> String? {
        if fchmod(fd, mode_t(mode)) != 0 { return "fchmod(\(path)): \(CRIUImageDirectory.errnoText(errno))" }
        return fsync(fd) == 0 ? nil : "fsync(\(path)): \(CRIUImageDirectory.errnoText(errno))"
    }

    static func kindName(_ mode: mode_t) -> String {
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
