#if canImport(Glibc)
import Glibc
#endif
import TimerCore
import TimerFormats

/// A directory written whole or not at all, for `dump --tree` and for
/// `criu fix` / `criu strip`: its files go into a temporary sibling
/// `.NAME.tmp-PID`, each fsync'ed, then the directory is renamed into place
/// (rename(2) replaces an empty directory atomically and refuses a full one
/// with ENOTEMPTY). Stop signals are held meanwhile and acted on once the
/// temporary directory is gone; a symlink to an empty directory is written
/// through.
struct StagedDirectory {
    /// The path as the user gave it, for messages.
    let reportedPath: String
    let temporary: String
    private let target: String
    private let parent: String
    private var written: [String] = []

    /// Builds `path`: `refusal` says why what stands there may not be
    /// replaced (nil: absent or empty), then `fill` adds the files, then the
    /// directory gets `mode` and is renamed into place.
    static func build(_ path: String, mode: mode_t, refusal: (String) -> String?,
                      _ fill: (inout StagedDirectory) throws(TreeWriteError) -> Void) throws(TreeWriteError) {
        var target = path
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
        if let problem = refusal(target) { throw TreeWriteError(path: path, problem: problem) }
        do { target = try OutputFile.resolveSymlinks(target) } catch {
            throw TreeWriteError(path: path, problem: "\(error.call): \(error.errno.nameAndMessage)")
        }
        let held = HeldStopSignals.hold()
        defer { HeldStopSignals.release(held) }
        var staged = StagedDirectory(reportedPath: path, target: target)
        guard mkdir(staged.temporary, 0o700) == 0 else {
            throw TreeWriteError(path: path, problem: "mkdir(\(staged.temporary)): \(KernelErrno.current.nameAndMessage)")
        }
        do {
            try fill(&staged)
            try staged.commit(mode: mode)
        } catch {
            staged.removeTemporary()
            throw error
        }
    }

    private init(reportedPath: String, target: String) {
        self.reportedPath = reportedPath
        self.target = target
        let slash = target.lastIndex(of: "/")
        parent = slash.map { String(target[...$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        temporary = "\(parent).\(base).tmp-\(getpid())"
    }

    /// Adds the file `name`, written by `write` at the path it is given.
    mutating func add(_ name: String, _ write: (String) throws(OutputFileError) -> Void) throws(TreeWriteError) {
        let path = "\(temporary)/\(name)"
        written.append(path)
        do { try write(path) } catch {
            throw TreeWriteError(path: reportedPath, problem: "\(error.call)(\(error.path)): \(error.errno.nameAndMessage)")
        }
        if let signo = HeldStopSignals.pending() {
            throw TreeWriteError(path: reportedPath, problem: "interrupted by \(HeldStopSignals.name(signo)): nothing written")
        }
    }

    private func commit(mode: mode_t) throws(TreeWriteError) {
        if chmod(temporary, mode) != 0 {
            throw TreeWriteError(path: reportedPath, problem: "chmod(\(temporary)): \(KernelErrno.current.nameAndMessage)")
        }
        do { try OutputFile.syncDirectory(temporary) } catch {
            throw TreeWriteError(path: reportedPath, problem: "fsync(\(temporary)): \(error.errno.nameAndMessage)")
        }
        TestHooks.pauseBeforeRename()
        if let signo = HeldStopSignals.pending() {
            throw TreeWriteError(path: reportedPath, problem: "interrupted by \(HeldStopSignals.name(signo)): nothing written")
        }
        guard rename(temporary, target) == 0 else {
            let e = errno
            let why = e == ENOTEMPTY || e == EEXIST || e == ENOTDIR
                ? "it was filled by someone else meanwhile" : KernelErrno(rawValue: e).nameAndMessage
            throw TreeWriteError(path: reportedPath, problem: "rename(\(temporary), \(target)): \(why)")
        }
        // The rename itself is durable once the parent directory is synced.
        try? OutputFile.syncDirectory(parent.isEmpty ? "." : parent)
    }

    private func removeTemporary() {
        for file in written { unlink(file) }
        rmdir(temporary)
    }
}
