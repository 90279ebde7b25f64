import TimerCore
/// Turns a CRIU checkpoint (an image directory, or one core-PID.img) into a
/// `timer-criu/1` Checkpoint. docs/criu-images.md describes the mapping field
/// by field.
public enum CRIUCheckpointReader {
    /// The `kernel` of a checkpoint read from CRIU images: CRIU does not record
    /// the kernel release (inventory.img has no such field).
    public static let kernelName = "criu-image"

    /// All the image files one CRIU checkpoint may read, added up: the
    /// directory's pstree.img and the core images pstree.img names (or, with
    /// no pstree.img, every core image). 256 MiB, four times the one-file
    /// limit; a real dump of 100,000 threads reads about 20 MB.
    static let directoryReadBudget = 256 << 20

    /// Reads a CRIU image directory: the root process of pstree.img (or, with
    /// no pstree.img, the one core image holding a task_core_entry).
    public static func loadDirectory(_ path: String, files: some InputFiles) throws(CheckpointError) -> Checkpoint {
        try checkpoint(directory: path, images: try DirectoryImages(directory: path, files: files), pid: nil)
    }

    /// Reads one core-PID.img: PID comes from the file name; pstree.img and the
    /// core-TID.img files next to it give the threads when they are there.
    public static func loadCoreImage(_ path: String, files: some InputFiles) throws(CheckpointError) -> Checkpoint {
        let (directory, fileName) = split(path)
        guard let pid = CRIUImageDirectory.coreTID(fileName: fileName) else {
            throw CheckpointError(path: path, "not a CRIU core image name: expected core-PID.img")
        }
        guard files.exists(path) else {
            throw CheckpointError(path: path, "missing core file: \(KernelErrno.ENOENT.nameAndMessage)")
        }
        return try checkpoint(directory: directory, images: try DirectoryImages(directory: directory, files: files), pid: pid)
    }

    /// Where the reader gets image files from: their names up front, their
    /// bytes only when asked for one (a directory on disk; in tests and the
    /// fuzz harness, a dictionary).
    protocol ImageFiles {
        /// Which of pstree.img and core-TID.img exist.
        var hasPstree: Bool { get }
        var coreTIDs: Set<Int32> { get }
        /// Whether another image (ids-PID.img, files.img, fdinfo-N.img) exists.
        func has(_ name: String) -> Bool
        /// The bytes of `name` (pstree.img or a core-TID.img that exists).
        mutating func bytes(_ name: String) throws(CheckpointError) -> [UInt8]
    }

    /// A CRIU directory on disk: only names are listed up front; each file is
    /// read when the reader needs it, and all reads together stay within
    /// `directoryReadBudget`.
    struct DirectoryImages<Files: InputFiles>: ImageFiles {
        let directory: String
        let files: Files
        let hasPstree: Bool
        let coreTIDs: Set<Int32>
        let names: Set<String>
        var budgetLeft = CRIUCheckpointReader.directoryReadBudget
        func has(_ name: String) -> Bool { names.contains(name) }

        init(directory: String, files: Files) throws(CheckpointError) {
            self.directory = directory
            self.files = files
            var hasPstree = false
            var coreTIDs = Set<Int32>()
            let names = try files.fileNames(directory)
            self.names = Set(names)
            for name in names {
                if name == "pstree.img" { hasPstree = true }
                if let tid = CRIUImageDirectory.coreTID(fileName: name) { coreTIDs.insert(tid) }
            }
            self.hasPstree = hasPstree
            self.coreTIDs = coreTIDs
        }

        mutating func bytes(_ name: String) throws(CheckpointError) -> [UInt8] {
            let path = join(directory, name)
            let perFile = CRIUImageDirectory.maximumImageSize
            let bytes = budgetLeft >= perFile
                ? try CRIUImageDirectory.readImage(path, files: files)
                : try files.read(path, limit: budgetLeft, limitText:
                    "the \(budgetLeft) bytes left of the \(directoryReadBudget >> 20) MiB all images of one CRIU checkpoint may have")
            budgetLeft -= bytes.count
            return bytes
        }
    }

    /// Image files given as bytes, by file name.
    struct ImageBytes: ImageFiles {
        let files: [String: [UInt8]]
        var hasPstree: Bool { files["pstree.img"] != nil }
        var coreTIDs: Set<Int32> { Set(files.keys.compactMap(CRIUImageDirectory.coreTID(fileName:))) }
        func has(_ name: String) -> Bool { files[name] != nil }
        func bytes(_ name: String) throws(CheckpointError) -> [UInt8] {
            guard let bytes = files[name] else { throw CheckpointError(path: name, "missing core file") }
            return bytes
        }
    }

    /// The pure part on image bytes by file name (tests, the fuzz harness).
    static func checkpoint(directory: String, files: [String: [UInt8]], pid requestedPID: Int32?) throws(CheckpointError) -> Checkpoint {
        try checkpoint(directory: directory, images: ImageBytes(files: files), pid: requestedPID)
    }

    /// A checkpoint from the image files of `directory`. `pid` selects the
    /// process (a core-PID.img given by name); nil means the root of
    /// pstree.img. Only the images this needs are read: pstree.img, the
    /// leader's core image and the core images of the threads pstree.img
    /// lists (every core image only when there is no pstree.img). Every
    /// problem is one CheckpointError naming the file and, for bad bytes, the
    /// byte offset.
    static func checkpoint<Images: ImageFiles>(directory: String, images: Images, pid requestedPID: Int32?) throws(CheckpointError) -> Checkpoint {
        var images = images
        func decodeError(_ name: String, _ error: CRIUDecodeError) -> CheckpointError {
            CheckpointError(path: join(directory, name), "byte \(error.offset): \(error.problem)")
        }
        let availableCores = images.coreTIDs
        // Decoded leader images, so that the search without pstree.img does
        // not read the leader twice (thread images are decoded and dropped).
        var leaderCores: [Int32: CRIUCore] = [:]
        func core(_ tid: Int32) throws(CheckpointError) -> CRIUCore {
            if let known = leaderCores[tid] { return known }
            let name = "core-\(tid).img"
            guard availableCores.contains(tid) else {
                throw CheckpointError(path: join(directory, name), "missing core file")
            }
            let bytes = try images.bytes(name)
            let decoded: CRIUCore
            do { decoded = try CRIUImageDecoder.decodeCore(bytes) } catch { throw decodeError(name, error) }
            if decoded.hasTaskCore { leaderCores[tid] = decoded }
            return decoded
        }

        let coreTIDs = availableCores.sorted()
        var warnings: [String] = []
        var pstree: [CRIUPstreeEntry]?
        if images.hasPstree {
            let bytes = try images.bytes("pstree.img")
            do { pstree = try CRIUImageDecoder.decodePstree(bytes) } catch { throw decodeError("pstree.img", error) }
        }

        // Which process, and which threads pstree.img says it has.
        let pid: Int32
        var listedThreads: [Int32]?
        if let pstree {
            guard let root = pstree.first else {
                throw CheckpointError(path: join(directory, "pstree.img"), "byte 8: no pstree_entry after the magics")
            }
            if let requestedPID {
                if let entry = pstree.first(where: { $0.pid == requestedPID }) {
                    listedThreads = entry.threads
                } else if let owner = pstree.first(where: { $0.threads.contains(requestedPID) }) {
                    throw CheckpointError(path: join(directory, "core-\(requestedPID).img"),
                                          "thread \(requestedPID) of process \(owner.pid) (pstree.img): its process's timers are in core-\(owner.pid).img")
                } else {
                    warnings.append("pstree.img does not list pid \(requestedPID); its threads are taken from the core-TID.img files")
                }
                pid = requestedPID
            } else {
                pid = root.pid
                listedThreads = root.threads
                if pstree.count > 1 {
                    warnings.append("pstree.img lists \(pstree.count) processes; only the root, pid \(root.pid), is read (pass core-PID.img for another)")
                }
            }
        } else if let requestedPID {
            pid = requestedPID
        } else {
            // No pstree.img: the process is the one core image with a
            // task_core_entry (CRIU writes `tc` only for thread-group leaders).
            guard !coreTIDs.isEmpty else {
                throw CheckpointError(path: directory, "no core-PID.img and no pstree.img: not a CRIU image directory")
            }
            var leaders: [Int32] = []
            for tid in coreTIDs where try core(tid).hasTaskCore { leaders.append(tid) }
            guard leaders.count == 1 else {
                throw CheckpointError(path: directory, leaders.isEmpty
                    ? "no pstree.img, and no core-TID.img has a task_core_entry (tc): no thread-group leader"
                    : "no pstree.img, and \(leaders.count) core images are thread-group leaders (\(leaders.map(String.init).joined(separator: ", "))): pass one core-PID.img")
            }
            pid = leaders[0]
        }

        let leaderCore = try core(pid)
        guard leaderCore.hasTaskCore else {
            throw CheckpointError(path: join(directory, "core-\(pid).img"),
                                  "no task_core_entry (tc): a thread's core image, not a thread-group leader's")
        }

        // Threads: the leader first, then those with a core-TID.img present.
        var threads: [Int32] = [pid]
        var threadSet: Set<Int32> = [pid]
        if let listedThreads {
            for tid in listedThreads where !threadSet.contains(tid) {
                if availableCores.contains(tid) {
                    _ = try core(tid) // a thread's image must at least be a valid core image
                    threads.append(tid)
                    threadSet.insert(tid)
                } else {
                    warnings.append("thread \(tid) is listed in pstree.img but core-\(tid).img is missing")
                }
            }
        } else {
            for tid in coreTIDs where tid != pid {
                let threadCore = try core(tid)
                if !threadCore.hasTaskCore {
                    threads.append(tid)
                    threadSet.insert(tid)
                }
            }
        }

        var timers: [CheckpointTimer] = []
        var seenIDs = Set<Int32>()
        for raw in leaderCore.posixTimers {
            let timer: CheckpointTimer
            do { timer = try checkpointTimer(raw, pid: pid) } catch { throw decodeError("core-\(pid).img", error) }
            guard seenIDs.insert(timer.id).inserted else {
                throw decodeError("core-\(pid).img", CRIUDecodeError(offset: raw.offset(ofField: 1), "timer id \(timer.id) appears twice"))
            }
            timers.append(timer)
        }
        timers.sort { $0.id < $1.id }
        // Like a dump from /proc: a thread_id target that is not a thread of
        // the checkpoint is kept, marked, and warned about (docs/format.md).
        for i in timers.indices where timers[i].notify == .threadID && !threadSet.contains(timers[i].notifyTarget) {
            timers[i].notifyTargetExited = true
        }
        warnings += timerWarnings(timers, pid: pid, threads: threadSet)
        var checkpoint = Checkpoint(pid: pid, kernel: kernelName, threads: threads, timers: timers, warnings: warnings)
        checkpoint.itimers = leaderCore.itimers
        // timerfds: ids-PID.img names the fdinfo image; files.img holds the
        // entries (CRIU 3.x, 4.x), or timerfd.img (the layout before files.img).
        let idsName = "ids-\(pid).img"
        let fileImages = ["files.img", "timerfd.img"].filter { images.has($0) }
        if images.has(idsName), !fileImages.isEmpty {
            let filesID: UInt32?
            let idsBytes = try images.bytes(idsName)
            do { filesID = try CRIUImageDecoder.decodeFilesID(idsBytes) } catch { throw decodeError(idsName, error) }
            if let filesID, images.has("fdinfo-\(filesID).img") {
                let fdinfoName = "fdinfo-\(filesID).img"
                let fdinfos: [(id: UInt32, fd: Int32, closeOnExec: Bool)]
                let fdinfoBytes = try images.bytes(fdinfoName)
                do { fdinfos = try CRIUImageDecoder.decodeTimerFDInfos(fdinfoBytes) } catch {
                    throw decodeError(fdinfoName, error)
                }
                var timerFDs: [CheckpointTimerFD] = []
                if !fdinfos.isEmpty {
                    // File id -> (entry, the image it came from).
                    var files: [UInt32: (timerFD: CheckpointTimerFD, image: String)] = [:]
                    for name in fileImages {
                        let bytes = try images.bytes(name)
                        let entries: [UInt32: CheckpointTimerFD]
                        do {
                            entries = name == "files.img" ? try CRIUImageDecoder.decodeTimerFDFiles(bytes)
                                : try CRIUImageDecoder.decodeLegacyTimerFDFiles(bytes)
                        } catch {
                            throw decodeError(name, error)
                        }
                        for (id, timerFD) in entries.sorted(by: { $0.key < $1.key }) {
                            if let other = files[id] {
                                throw CheckpointError(path: join(directory, name),
                                    "timerfd file id \(id) is in \(other.image) too: the two layouts disagree on what file \(id) is")
                            }
                            files[id] = (timerFD, name)
                        }
                    }
                    var byFile: [UInt32: [Int32]] = [:]
                    for info in fdinfos {
                        guard let (found, image) = files[info.id] else {
                            throw CheckpointError(path: join(directory, fdinfoName),
                                "fd \(info.fd) is a TIMERFD with file id \(info.id), which \(fileImages.joined(separator: " and ")) "
                                + (fileImages.count == 1 ? "does" : "do") + " not have")
                        }
                        var timerFD = found
                        timerFD.fd = info.fd
                        if info.closeOnExec { timerFD.flags |= CheckpointTimerFD.O_CLOEXEC }
                        if let refusal = CheckpointTimerFD.clockRefusal(timerFD.clockID) {
                            throw CheckpointError(path: join(directory, image), "timerfd id \(info.id): clockid \(timerFD.clockID.rawValue) is \(refusal)")
                        }
                        timerFDs.append(timerFD)
                        byFile[info.id, default: []].append(info.fd)
                    }
                    timerFDs.sort { $0.fd < $1.fd }
                    checkpoint.warnings += Checkpoint.timerFDWarnings(timerFDs, sharedGroups: byFile.values.map { $0.sorted() }.sorted { $0[0] < $1[0] })
                }
                checkpoint.timerFDs = timerFDs
            }
        }
        return checkpoint
    }

    /// Maps one posix_timer_entry to a checkpoint timer (docs/criu-images.md).
    static func checkpointTimer(_ raw: CRIUPosixTimer, pid: Int32) throws(CRIUDecodeError) -> CheckpointTimer {
        guard raw.itID <= UInt32(Int32.max) else {
            // Timer IDs are 0...INT_MAX on every kernel (docs/kernel-facts.md 1).
            throw CRIUDecodeError(offset: raw.offset(ofField: 1), "it_id \(raw.itID) is outside 0...2147483647")
        }
        guard raw.itSigevNotify <= 4, let notify = NotifyMode(sigevNotify: Int32(raw.itSigevNotify)) else {
            throw CRIUDecodeError(offset: raw.offset(ofField: 4),
                                  "timer \(raw.itID): it_sigev_notify \(raw.itSigevNotify) is not 0 (signal), 1 (none), 2 (thread) or 4 (thread id)")
        }
        var target = pid
        if notify == .threadID {
            guard let tid = raw.notifyThreadID else {
                throw CRIUDecodeError(offset: raw.offset(ofField: 4), "timer \(raw.itID): it_sigev_notify 4 (thread id) without notify_thread_id")
            }
            guard tid > 0 else {
                throw CRIUDecodeError(offset: raw.offset(ofField: 11), "timer \(raw.itID): notify_thread_id \(tid) is not a thread id")
            }
            target = tid
        }
        guard raw.overrun <= UInt32(Int32.max) else {
            // timer_getoverrun clamps to INT_MAX (docs/kernel-facts.md 5b).
            throw CRIUDecodeError(offset: raw.offset(ofField: 6), "timer \(raw.itID): overrun \(raw.overrun) is more than INT_MAX")
        }
        return CheckpointTimer(
            id: Int32(raw.itID),
            // CRIU keeps the kernel's int in a uint32 field: 4294967290 is -6.
            clockID: ClockID(Int32(bitPattern: raw.clockID)),
            signal: Int32(bitPattern: raw.siSigno),
            sigevValue: raw.sivalPtr,
            notify: notify,
            notifyTarget: target,
            valueNanoseconds: raw.valueNanoseconds,
            intervalNanoseconds: raw.intervalNanoseconds,
            overrun: Int32(raw.overrun))
    }

    /// Timers that cannot be restored as they stand (the same cases a dump
    /// from /proc warns about), plus CRIU's re-arm rule.
    static func timerWarnings(_ timers: [CheckpointTimer], pid: Int32, threads: Set<Int32>) -> [String] {
        var warnings: [String] = []
        for timer in timers {
            if timer.notify == .threadID, !threads.contains(timer.notifyTarget) {
                warnings.append("timer \(timer.id): notify thread \(timer.notifyTarget) is not a thread of the checkpoint (no core-\(timer.notifyTarget).img): restoring it as is fails with EINVAL")
            }
            if timer.notify == .threadID, timer.signal == 32 {
                warnings.append("timer \(timer.id): a glibc SIGEV_THREAD helper timer (signal 32 to thread \(timer.notifyTarget)): glibc's helper thread and its sival are internal to the process")
            }
            if timer.clockID == .threadCPUTime, threads.count > 1 {
                warnings.append("timer \(timer.id): thread-cputime clock in a process with \(threads.count) threads: the image does not say which thread's CPU time it counts")
            }
            if let warning = Checkpoint.restoreConsequence(of: timer, pid: pid, threads: threads) {
                warnings.append(warning)
            }
            if timer.valueNanoseconds == 0, let interval = timer.intervalNanoseconds, interval > 0 {
                // docs/kernel-facts.md 6: CRIU arms such a timer with its interval.
                warnings.append("timer \(timer.id): dumped with 0 ns left and an interval of \(interval) ns: CRIU arms it with the interval")
            }
        }
        return warnings
    }

    package static func join(_ directory: String, _ name: String) -> String {
        if directory == "." { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// ("dir", "core-1.img") for "dir/core-1.img"; (".", name) without a slash.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
