#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tree directory that could not be written; nothing is left behind.
public struct TreeWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public init(path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "cannot write \(path): \(problem)" }
}

/// Writes a tree directory whole or not at all: every file goes into a
/// temporary sibling directory `.NAME.tmp-PID`, each fsync'ed, index.json
/// last; then the directory is renamed into place (rename(2) replaces an
/// empty directory atomically and refuses a non-empty one with ENOTEMPTY).
public enum CheckpointTreeWriter {
    public static func write(index: CheckpointTreeIndex, checkpoints: [Checkpoint],
                             to directory: String) throws(TreeWriteError) {
        var target = directory
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
        if let problem = refusal(of: target) { throw TreeWriteError(path: directory, problem) }

        let slash = target.lastIndex(of: "/")
        let parent = slash.map { String(target[...$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let temporary = "\(parent).\(base).tmp-\(getpid())"
        guard mkdir(temporary, 0o755) == 0 else {
            throw TreeWriteError(path: directory, "mkdir(\(temporary)): \(errnoText())")
        }
        var written: [String] = []
        func abandon(_ problem: String) -> TreeWriteError {
            for file in written { unlink(file) }
            rmdir(temporary)
            return TreeWriteError(path: directory, problem)
        }
        let byPID = Dictionary(checkpoints.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        var files: [(String, [UInt8])] = []
        for entry in index.processes {
            guard let checkpoint = byPID[entry.pid] else { throw abandon("no checkpoint of process \(entry.pid)") }
            files.append((entry.file, checkpoint.jsonBytes()))
        }
        files.append((CheckpointTreeIndex.fileName, index.jsonBytes()))
        for (name, bytes) in files {
            let path = "\(temporary)/\(name)"
            if let problem = writeFile(bytes, to: path) { written.append(path); throw abandon(problem) }
            written.append(path)
        }
        if let problem = syncDirectory(temporary) { throw abandon(problem) }
        guard rename(temporary, target) == 0 else {
            let e = errno
            let why = e == ENOTEMPTY || e == EEXIST ? "it was filled by someone else meanwhile" : errnoText(e)
            throw abandon("rename(\(temporary), \(target)): \(why)")
        }
        // The rename itself is durable once the parent directory is synced.
        _ = syncDirectory(parent.isEmpty ? "." : parent)
    }

    /// Why `directory` may not become the tree: it exists and is a file, or
    /// a directory with something in it. nil when absent or empty.
    public static func refusal(of directory: String) -> String? {
        var info = stat()
        guard stat(directory, &info) == 0 else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return "it exists and is not a directory" }
        guard let dir = opendir(directory) else { return "opendir: \(errnoText())" }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." {
                return "the directory exists and is not empty (a dump never overwrites one)"
            }
        }
        return nil
    }

    static func writeFile(_ bytes: [UInt8], to path: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { return "open(\(path)): \(errnoText())" }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                #if canImport(Glibc)
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #else
                Darwin.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #endif
            }
            if n < 0 {
                if errno == EINTR { continue }
                let problem = "write(\(path)): \(errnoText())"
                close(fd)
                return problem
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let problem = "fsync(\(path)): \(errnoText())"
            close(fd)
            return problem
        }
        return close(fd) == 0 ? nil : "close(\(path)): \(errnoText())"
    }

    static func syncDirectory(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return "open(\(path)): \(errnoText())" }
        defer { close(fd) }
        return fsync(fd) == 0 ? nil : "fsync(\(path)): \(errnoText())"
    }

    static func errnoText(_ value: Int32 = errno) -> String {
        CRIUImageDirectory.errnoText(value)
    }
}
