import SystemPackage
import TimerCore
import TimerFormats

#if canImport(Glibc)
import Glibc
#endif

/// A tree directory that could not be written; nothing is left behind.
public struct TreeWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
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
        let byPID = Dictionary(checkpoints.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        var files: [(String, [UInt8])] = []
        for entry in index.processes {
            guard let checkpoint = byPID[entry.pid] else {
                throw TreeWriteError(path: directory, problem: "no checkpoint of process \(entry.pid)")
            }
            do { try checkpoint.checkWritable(path: entry.file) } catch {
                throw TreeWriteError(path: directory, problem: error.description)
            }
            files.append((entry.file, checkpoint.jsonBytes()))
        }
        files.append((CheckpointTreeIndex.fileName, index.jsonBytes()))
        try StagedDirectory.build(directory, mode: 0o755, refusal: refusal(of:)) { staged throws(TreeWriteError) in
            for (name, bytes) in files {
                try staged.add(name) { path throws(OutputFileError) in try OutputFile.createNew(bytes, at: path) }
            }
        }
    }

    /// Why `directory` may not become the tree: it exists and is a file, or
    /// a directory with something in it. nil when absent or empty.
    public static func refusal(of directory: String) -> String? {
        guard let info = try? FilePath(directory).stat() else { return nil }
        guard info.type == .directory else { return "it exists and is not a directory" }
        do {
            if try !DirectoryListing.names(directory).isEmpty {
                return "the directory exists and is not empty (a dump never overwrites one)"
            }
        } catch {
            return "opendir: \(KernelErrno(error).nameAndMessage)"
        }
        return nil
    }
}
