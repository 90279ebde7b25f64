import TimerCore

#if canImport(Glibc)
import Glibc
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
/// Each member is written by OutputFile, the tool's one file writer; a
/// symlink to an empty directory is written through.
public enum CheckpointTreeWriter {
    public static func write(index: CheckpointTreeIndex, checkpoints: [Checkpoint],
                             to directory: String) throws(TreeWriteError) {
        var target = directory
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
        if let problem = refusal(of: target) { throw TreeWriteError(path: directory, problem) }
        do { target = try OutputFile.resolveSymlinks(target) } catch {
            throw TreeWriteError(path: directory, "\(error.call): \(error.errno.nameAndMessage)")
        }

        let slash = target.lastIndex(of: "/")
        let parent = slash.map { String(target[...$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let temporary = "\(parent).\(base).tmp-\(getpid())"
        // As OutputFile: a stop signal is acted on once the temporary is gone.
        let held = HeldStopSignals.hold()
        defer { HeldStopSignals.release(held) }
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
            do { try checkpoint.checkWritable(path: entry.file) } catch { throw abandon(error.description) }
            files.append((entry.file, checkpoint.jsonBytes()))
        }
        files.append((CheckpointTreeIndex.fileName, index.jsonBytes()))
        for (name, bytes) in files {
            let path = "\(temporary)/\(name)"
            do { try OutputFile.createNew(bytes, at: path) } catch {
                throw abandon("\(error.call)(\(path)): \(error.errno.nameAndMessage)")
            }
            written.append(path)
        }
        do { try OutputFile.syncDirectory(temporary) } catch {
            throw abandon("fsync(\(temporary)): \(error.errno.nameAndMessage)")
        }
        if let signo = HeldStopSignals.pending() {
            throw abandon("interrupted by \(HeldStopSignals.name(signo)): nothing written")
        }
        guard rename(temporary, target) == 0 else {
            let e = errno
            let why = e == ENOTEMPTY || e == EEXIST ? "it was filled by someone else meanwhile" : errnoText(e)
            throw abandon("rename(\(temporary), \(target)): \(why)")
        }
        // The rename itself is durable once the parent directory is synced.
        try? OutputFile.syncDirectory(parent.isEmpty ? "." : parent)
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

    static func errnoText(_ value: Int32 = errno) -> String {
        KernelErrno(rawValue: value).nameAndMessage
    }
}
