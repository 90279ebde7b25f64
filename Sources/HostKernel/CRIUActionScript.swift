import SystemPackage
import TimerCore
import TimerFormats

#if canImport(Glibc)
import Glibc
#endif

/// A restored task of a CRIU checkpoint: the pid it has in the tool's pid
/// namespace, and its threads, by the ids the checkpoint knows them by.
public struct CRIURestoredProcess: Equatable, Sendable {
    /// The process's pid here (CRTOOLS_INIT_PID for the root).
    public var pid: Int32
    /// Checkpoint tid → tid here, the main thread included.
    public var threads: [Int32: Int32]

    public init(pid: Int32, threads: [Int32: Int32]) {
        self.pid = pid
        self.threads = threads
    }
}

/// Why `criu action-script` could not put the timers back: one line for
/// CRIU's log, and the exit code CRIU reports ("... script ret code N").
public struct CRIUActionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `timer-criu criu action-script`, the script `criu restore -D OUT
/// --action-script` runs for a directory `criu strip` wrote
/// (docs/criu-images.md, "The action script").
///
/// CRIU runs it at every stage with CRTOOLS_SCRIPT_ACTION set. Two matter:
/// - post-restore: the tasks exist (CRTOOLS_INIT_PID is set from here on) and
///   CRTOOLS_IMAGE_DIR (/proc/CRIU/fd/N) is still open. timer-criu.json is
///   read, every process and thread it needs is found in the restored tree,
///   and the timers are kept in a state file: CRIU closes the image directory
///   before post-resume (criu/cr-restore.c: close_image_dir() just before
///   run_scripts(ACT_POST_RESUME)), so the path is dead by then. A failure
///   here aborts the restore (CRIU kills the tasks), with nothing lost.
/// - post-resume: the tasks run and are no longer traced (at pre-resume they
///   still are, and ptrace fails with EPERM): the timers go in by `restore
///   --into`, root first.
/// Every other action exits 0 doing nothing.
public enum CRIUActionScript {
    public static let postRestore = "post-restore"
    public static let postResume = "post-resume"

    /// What one run did, for the line CRIU's log shows (nil: nothing to say).
    public struct Outcome: Equatable, Sendable {
        public var message: String?
    }

    /// Runs the action CRIU names in `environment`.
    public static func run(environment: [String: String], procRoot: String = "/proc",
                           inject: (Checkpoint, CRIURestoredProcess) throws(CRIUActionError) -> Void)
        throws(CRIUActionError) -> Outcome
    {
        guard let action = environment["CRTOOLS_SCRIPT_ACTION"] else {
            throw CRIUActionError("CRTOOLS_SCRIPT_ACTION is not set: this is CRIU's --action-script, run by criu restore")
        }
        guard action == postRestore || action == postResume else { return Outcome(message: nil) }
        guard let imageDirectory = environment["CRTOOLS_IMAGE_DIR"] else {
            throw CRIUActionError("\(action): CRTOOLS_IMAGE_DIR is not set")
        }
        guard let rootText = environment["CRTOOLS_INIT_PID"], let root = Int32(rootText), root > 0 else {
            throw CRIUActionError("\(action): CRTOOLS_INIT_PID is \(environment["CRTOOLS_INIT_PID"].map { "\"\($0)\"" } ?? "not set"): no restored root task")
        }
        let state = stateFile(imageDirectory: imageDirectory, root: root, environment: environment)
        if action == postRestore {
            let timersPath = imageDirectory + "/" + CRIUImageEditor.timersFileName
            guard CRIUImageDirectoryListing.exists(timersPath) else {
                return Outcome(message: "no \(CRIUImageEditor.timersFileName) in the image directory (not written by timer-criu criu strip): no timers to put back")
            }
            let bytes: [UInt8]
            do { bytes = try CRIUImageDirectoryListing.readImage(timersPath) } catch { throw CRIUActionError(error.description) }
            let processes = try checkpoints(bytes, path: timersPath)
            _ = try restoredTasks(for: processes, root: root, procRoot: procRoot)
            try writeState(bytes, to: state)
            let count = processes.reduce(0) { $0 + $1.timers.count }
            return Outcome(message: "\(count) timer(s) of \(processes.count) process(es) found in \(CRIUImageEditor.timersFileName); they are put back at post-resume")
        }

        // post-resume.
        let bytes: [UInt8]
        let source: String
        if let saved = try readState(state) {
            bytes = saved
            source = state
            unlink(state)
        } else {
            // A CRIU that keeps the image directory open until now.
            let timersPath = imageDirectory + "/" + CRIUImageEditor.timersFileName
            guard CRIUImageDirectoryListing.exists(timersPath) else {
                return Outcome(message: "no timers to put back (no \(CRIUImageEditor.timersFileName) was found at post-restore)")
            }
            do { bytes = try CRIUImageDirectoryListing.readImage(timersPath) } catch { throw CRIUActionError(error.description) }
            source = timersPath
        }
        let processes = try checkpoints(bytes, path: source)
        let restored = try restoredTasks(for: processes, root: root, procRoot: procRoot)
        var total = 0
        var mapping: [String] = []
        for checkpoint in processes {
            guard let target = restored[checkpoint.pid] else { continue }
            guard !checkpoint.timers.isEmpty else { continue }
            try inject(checkpoint, target)
            total += checkpoint.timers.count
            mapping.append(checkpoint.pid == target.pid ? "\(target.pid)" : "\(checkpoint.pid) -> \(target.pid)")
        }
        guard !mapping.isEmpty else { return Outcome(message: "\(CRIUImageEditor.timersFileName) holds no timers: nothing to put back") }
        return Outcome(message: "put back \(total) timer(s) into \(mapping.count) process(es) (\(mapping.joined(separator: ", ")))")
    }

    /// The processes of timer-criu.json, parents first: one checkpoint, or
    /// the `inspect --json` form of a tree.
    static func checkpoints(_ bytes: [UInt8], path: String) throws(CRIUActionError) -> [Checkpoint] {
        do {
            if CheckpointTree.isInspectJSON(bytes) { return try CheckpointTree(inspectJSON: bytes, path: path).checkpoints }
            let checkpoint = try Checkpoint(json: bytes, path: path)
            try checkpoint.validate(path: path)
            return [checkpoint]
        } catch {
            throw CRIUActionError(error.description)
        }
    }

    /// Every process of `checkpoints` and the threads its timers need, found
    /// among `root` and its descendants by the id each task has in its own
    /// pid namespace (the last NSpid of /proc/PID/status), which is the id
    /// pstree.img gave it and CRIU restored it with.
    public static func restoredTasks(for checkpoints: [Checkpoint], root: Int32, procRoot: String = "/proc")
        throws(CRIUActionError) -> [Int32: CRIURestoredProcess]
    {
        let tree: [CheckpointTreeEntry]
        do { tree = try ProcessTree.descendants(of: root, procRoot: procRoot) } catch {
            throw CRIUActionError("the restored root task \(root) (CRTOOLS_INIT_PID): \(error)")
        }
        var byCheckpointPID: [Int32: CRIURestoredProcess] = [:]
        for entry in tree {
            guard let virtualPID = namespacePID(of: "\(procRoot)/\(entry.pid)") else { continue }
            var threads: [Int32: Int32] = [:]
            for tid in (try? ProcFS.threads(pid: entry.pid, procRoot: procRoot)) ?? [entry.pid] {
                if let virtualTID = namespacePID(of: "\(procRoot)/\(entry.pid)/task/\(tid)") { threads[virtualTID] = tid }
            }
            byCheckpointPID[virtualPID] = CRIURestoredProcess(pid: entry.pid, threads: threads)
        }
        guard let rootCheckpoint = checkpoints.first else { return [:] }
        // CRIU restores every task with its pstree.img id, the root included.
        let rootID = namespacePID(of: "\(procRoot)/\(root)")
        guard rootID == rootCheckpoint.pid else {
            throw CRIUActionError("the restored root task \(root) (CRTOOLS_INIT_PID) is \(rootID.map { "task \($0)" } ?? "unreadable") in its pid namespace, but the root of timer-criu.json is process \(rootCheckpoint.pid)")
        }
        for checkpoint in checkpoints {
            guard let restored = byCheckpointPID[checkpoint.pid] else {
                throw CRIUActionError("process \(checkpoint.pid) of timer-criu.json is not among the restored tasks (root \(root) and its descendants)")
            }
            let ownTasks = Set([checkpoint.pid] + checkpoint.threads)
            for timer in checkpoint.timers {
                if let named = timer.clockID.cpuClockPID, named != 0, !timer.clockID.isFDClock, !ownTasks.contains(named) {
                    throw CRIUActionError("process \(checkpoint.pid): timer \(timer.id): clock \(timer.clockID.name) (\(timer.clockID.rawValue)) counts task \(named) of another process, which restore --into (one process at a time) cannot map")
                }
            }
            for tid in neededThreads(of: checkpoint) where restored.threads[tid] == nil {
                throw CRIUActionError("process \(checkpoint.pid) (restored as \(restored.pid)): thread \(tid), which its timers need, was not restored")
            }
        }
        return byCheckpointPID
    }

    /// The checkpoint threads the timers name: live thread_id targets and
    /// per-thread CPU clocks.
    static func neededThreads(of checkpoint: Checkpoint) -> [Int32] {
        var tids = Set<Int32>()
        let threads = Set(checkpoint.threads)
        for timer in checkpoint.timers {
            if timer.notify == .threadID, !timer.notifyTargetExited { tids.insert(timer.notifyTarget) }
            if timer.clockID.cpuClockIsPerThread, let tid = timer.clockID.cpuClockPID, tid != 0, threads.contains(tid) {
                tids.insert(tid)
            }
        }
        return tids.sorted()
    }

    /// The last field of the NSpid line of DIR/status: the task's id in its
    /// innermost pid namespace (the line lists them outermost first).
    static func namespacePID(of directory: String) -> Int32? {
        (try? ProcFS.status(directory))?.namespacePIDs?.last
    }

    // MARK: the state between post-restore and post-resume

    /// `$TMPDIR/timer-criu-action-CRIUPID-INITPID.json`: CRIU's pid comes from
    /// CRTOOLS_IMAGE_DIR (/proc/CRIUPID/fd/N), which both runs see alike even
    /// when a wrapper shell sits between CRIU and timer-criu.
    static func stateFile(imageDirectory: String, root: Int32, environment: [String: String]) -> String {
        var criuPID = getppid()
        let parts = imageDirectory.split(separator: "/")
        if parts.count == 4, parts[0] == "proc", parts[2] == "fd", let pid = Int32(parts[1]) { criuPID = pid }
        var directory = environment["TMPDIR"] ?? "/tmp"
        if directory.isEmpty { directory = "/tmp" }
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        return "\(directory)/timer-criu-action-\(criuPID)-\(root).json"
    }

    /// Written mode 0600 with O_EXCL; one left by an earlier restore with the
    /// same pids is ours to replace only if it is a regular file we own.
    static func writeState(_ bytes: [UInt8], to path: String) throws(CRIUActionError) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else {
                throw CRIUActionError("\(path): exists and is not a file of this user: not replaced")
            }
            unlink(path)
        }
        do { try OutputFile.createNew(bytes, at: path, permissions: [.ownerReadWrite]) } catch {
            throw CRIUActionError(error.description)
        }
    }

    /// The state file's bytes, nil when there is none; refused unless it is a
    /// regular file of this user that nobody else may write.
    static func readState(_ path: String) throws(CRIUActionError) -> [UInt8]? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
            throw CRIUActionError("\(path): not a regular file of this user, or writable by others: not trusted")
        }
        do { return try CRIUImageDirectoryListing.readImage(path) } catch { throw CRIUActionError(error.description) }
    }
}
