import TimerCore
/// What `criu fix` makes of a SIGEV_THREAD_ID timer whose thread has exited.
public enum CRIUDeadThreadNotify: String, Sendable, CaseIterable {
    /// SIGEV_NONE: the timer keeps running and can be read, nothing is delivered
    /// (what `restore --dead-thread-notify none` does).
    case none
    /// SIGEV_SIGNAL: the signal goes to the process instead of the thread.
    case process

    var notify: NotifyMode { self == .none ? .none : .signal }
}

/// One timer `criu fix` changed.
public struct CRIUTimerChange: Hashable, Sendable {
    /// The process whose core image holds the timer.
    public var pid: Int32
    /// `core-PID.img`.
    public var file: String
    public var timerID: Int32
    /// The exited thread the timer was aimed at.
    public var deadThread: Int32
    /// What it notifies now.
    public var notify: NotifyMode
}

/// The result of `criu fix` or `criu strip`, before anything is written:
/// the new bytes of the files that change, the files added, and what changed.
public struct CRIUImageEdit: Sendable {
    /// The image directory read.
    public var directory: String
    /// File name → new content, for the core images that change.
    public var rewrittenFiles: [String: [UInt8]]
    /// File name → content, for files that are not in the input (timer-criu.json).
    public var addedFiles: [String: [UInt8]]
    /// fix: one entry per timer changed, by pid then timer ID.
    public var changes: [CRIUTimerChange]
    /// Every process of the checkpoint (parents first) as read, with its timers.
    public var checkpoints: [Checkpoint]
    /// The processes and their parents (pstree.img), parents first.
    public var index: CheckpointTreeIndex
}

/// `criu fix` and `criu strip` on the bytes of an image directory: every
/// process of pstree.img read with the CRIU reader (so a bad image is refused
/// exactly as `inspect` refuses it), the core images rewritten at the wire
/// level (CRIUCoreImageRewriter), and the result read back with the same
/// reader and compared with what was meant before it is handed out.
public enum CRIUImageEditor {
    /// The file `strip` puts the timers in, in OUT.
    public static let timersFileName = "timer-criu.json"

    /// Every timer CRIU cannot restore made restorable: a SIGEV_THREAD_ID
    /// timer aimed at a thread that is not in the checkpoint is re-aimed by
    /// `deadThreadNotify`.
    public static func fix(directory: String, deadThreadNotify: CRIUDeadThreadNotify, files: some InputFiles) throws(CheckpointError) -> CRIUImageEdit {
        try edit(directory: directory, files: files) { timer throws(CheckpointError) in
            guard timer.notify == .threadID, timer.notifyTargetExited else { return .keep }
            return .renotify(UInt32(deadThreadNotify.notify.sigevNotify))
        }
    }

    /// Every POSIX timer taken out of the core images and put, with its
    /// values, into `timer-criu.json` (a timer-criu checkpoint for one
    /// process, the `inspect --json` form of a tree for several).
    public static func strip(directory: String, files: some InputFiles) throws(CheckpointError) -> CRIUImageEdit {
        var result = try edit(directory: directory, files: files) { _ throws(CheckpointError) in .remove }
        // Only the POSIX timers leave the images: CRIU restores the timerfds
        // and interval timers itself, so the action script must not.
        for i in result.checkpoints.indices {
            result.checkpoints[i].timerFDs = nil
            result.checkpoints[i].itimers = nil
            result.checkpoints[i].dumpClocks = nil
        }
        let bytes: [UInt8]
        if result.checkpoints.count == 1 {
            bytes = result.checkpoints[0].jsonBytes()
        } else {
            bytes = CheckpointTree(directory: directory, index: result.index, checkpoints: result.checkpoints).inspectJSONBytes()
        }
        result.addedFiles[timersFileName] = bytes
        return result
    }

    static func edit(directory: String, files input: some InputFiles,
                     _ decide: (CheckpointTimer) throws(CheckpointError) -> CRIUPosixTimerEdit) throws(CheckpointError) -> CRIUImageEdit {
        // pstree.img and the core images of its processes and threads (every
        // core image without it), read within the reader's budget.
        var images = try CRIUCheckpointReader.DirectoryImages(directory: directory, files: input)
        var files: [String: [UInt8]] = [:]
        var tids = images.coreTIDs
        if images.hasPstree {
            let bytes = try images.bytes("pstree.img")
            files["pstree.img"] = bytes
            if let pstree = try? CRIUImageDecoder.decodePstree(bytes) {
                tids = tids.intersection(pstree.flatMap { [$0.pid] + $0.threads })
            }
        }
        for tid in tids.sorted() { files["core-\(tid).img"] = try images.bytes("core-\(tid).img") }
        return try edit(directory: directory, files: files, decide)
    }

    /// The pure part: `files` are pstree.img and the core-TID.img files by name.
    static func edit(directory: String, files: [String: [UInt8]],
                     _ decide: (CheckpointTimer) throws(CheckpointError) -> CRIUPosixTimerEdit) throws(CheckpointError) -> CRIUImageEdit {
        func path(_ name: String) -> String { CRIUCheckpointReader.join(directory, name) }
        func decodeError(_ name: String, _ error: CRIUDecodeError) -> CheckpointError {
            CheckpointError(path: path(name), "byte \(error.offset): \(error.problem)")
        }

        // The processes: pstree.img's entries, or the one leader without it.
        var entries: [CheckpointTreeEntry] = []
        if let bytes = files["pstree.img"] {
            let pstree: [CRIUPstreeEntry]
            do { pstree = try CRIUImageDecoder.decodePstree(bytes) } catch { throw decodeError("pstree.img", error) }
            entries = pstree.map { CheckpointTreeEntry(pid: $0.pid, ppid: $0.ppid, file: "core-\($0.pid).img") }
        }
        var checkpoints: [Checkpoint] = []
        if entries.isEmpty {
            let checkpoint = try CRIUCheckpointReader.checkpoint(directory: directory, files: files, pid: nil)
            entries = [CheckpointTreeEntry(pid: checkpoint.pid, ppid: 0, file: "core-\(checkpoint.pid).img")]
            checkpoints = [checkpoint]
        } else {
            for entry in entries {
                checkpoints.append(try CRIUCheckpointReader.checkpoint(directory: directory, files: files, pid: entry.pid))
            }
        }
        for (entry, checkpoint) in zip(entries, checkpoints) { try checkpoint.validate(path: path(entry.file)) }
        // Every task of the checkpoint: what a CPU clock may name.
        var processOfTask: [Int32: Int32] = [:]
        for checkpoint in checkpoints {
            for tid in [checkpoint.pid] + checkpoint.threads { processOfTask[tid] = checkpoint.pid }
        }

        var rewritten: [String: [UInt8]] = [:]
        var changes: [CRIUTimerChange] = []
        var expected: [Int32: [CheckpointTimer]] = [:]
        for (entry, checkpoint) in zip(entries, checkpoints) {
            let name = entry.file
            guard let bytes = files[name] else { throw CheckpointError(path: path(name), "missing core file") }
            let raw: [CRIUPosixTimer]
            do { raw = try CRIUImageDecoder.decodeCore(bytes).posixTimers } catch { throw decodeError(name, error) }
            let byID = Dictionary(checkpoint.timers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var edits: [CRIUPosixTimerEdit] = []
            var kept: [CheckpointTimer] = []
            for rawTimer in raw {
                guard let timer = byID[Int32(truncatingIfNeeded: rawTimer.itID)] else {
                    throw decodeError(name, CRIUDecodeError(offset: rawTimer.offset, "timer \(rawTimer.itID) was not read back"))
                }
                if let problem = cpuClockProblem(timer, process: checkpoint.pid, processOfTask: processOfTask) {
                    throw decodeError(name, CRIUDecodeError(offset: rawTimer.offset(ofField: 2), "timer \(timer.id): \(problem)"))
                }
                let edit = try decide(timer)
                edits.append(edit)
                switch edit {
                case .keep:
                    kept.append(timer)
                case .remove:
                    break
                case .renotify(let value):
                    var changed = timer
                    changed.notify = NotifyMode(sigevNotify: Int32(value)) ?? .none
                    changed.notifyTarget = checkpoint.pid
                    changed.notifyTargetExited = false
                    kept.append(changed)
                    changes.append(CRIUTimerChange(pid: checkpoint.pid, file: name, timerID: timer.id,
                                                   deadThread: timer.notifyTarget, notify: changed.notify))
                }
            }
            expected[checkpoint.pid] = kept.sorted { $0.id < $1.id }
            guard edits.contains(where: { $0 != .keep }) else { continue }
            do { rewritten[name] = try CRIUCoreImageRewriter.rewrite(bytes, edits: edits) } catch { throw decodeError(name, error) }
        }

        // Read the result back with the same reader: exactly the timers meant.
        var output = files
        for (name, bytes) in rewritten { output[name] = bytes }
        for entry in entries where rewritten[entry.file] != nil {
            let reread = try CRIUCheckpointReader.checkpoint(directory: directory, files: output, pid: entry.pid)
            guard reread.timers == expected[entry.pid] else {
                throw CheckpointError(path: path(entry.file), "internal error: the rewritten image does not read back as the intended timers")
            }
        }
        changes.sort { ($0.pid, $0.timerID) < ($1.pid, $1.timerID) }
        let root = entries[0].pid
        let index = CheckpointTreeIndex(root: root, processes: CheckpointTreeIndex.parentsFirst(root: root, entries))
        let byPID = Dictionary(checkpoints.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        return CRIUImageEdit(directory: directory, rewrittenFiles: rewritten, addedFiles: [:], changes: changes,
                             checkpoints: index.processes.compactMap { byPID[$0.pid] }, index: index)
    }

    /// Why a timer's CPU clock cannot be restored from these images, or nil:
    /// it names a task outside the checkpoint (after a restore that pid is
    /// someone else's, or nobody's), or a thread clock names a thread of
    /// another process (timer_create refuses it: docs/kernel-facts.md 4).
    static func cpuClockProblem(_ timer: CheckpointTimer, process: Int32, processOfTask: [Int32: Int32]) -> String? {
        guard let named = timer.clockID.cpuClockPID, named != 0, !timer.clockID.isFDClock else { return nil }
        let clock = "clock \(timer.clockID.name) (\(timer.clockID.rawValue))"
        guard let owner = processOfTask[named] else {
            return "\(clock) counts task \(named), which is not a process or thread of the checkpoint (pstree.img): no restore can give it that task"
        }
        if timer.clockID.cpuClockIsPerThread, owner != process {
            return "\(clock) counts thread \(named) of process \(owner): a thread CPU clock must count a thread of process \(process) itself"
        }
        return nil
    }
}
