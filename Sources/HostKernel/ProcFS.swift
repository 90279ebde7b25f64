#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import TimerCore
import TimerFormats

/// Why a process's timers could not be read from /proc. Each case is one
/// line for the user; `timer-criu` maps them to its exit codes.
public enum ProcReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// /proc/PID does not exist.
    case noSuchProcess(pid: Int32)
    /// Every thread of the process has exited, the process is not reaped yet
    /// (a zombie): its timers are gone.
    case exited(pid: Int32)
    /// The process was there and exited (or became a zombie) while being read.
    case exitedWhileRead(pid: Int32)
    /// PID names a thread, not a process (/proc/TID exists but Tgid differs).
    case notAProcess(pid: Int32, threadGroup: Int32)
    /// PID is a kernel thread (PF_KTHREAD): its empty timers file would pass
    /// for a process without timers.
    case kernelThread(pid: Int32)
    /// open/read refused: the reader may not ptrace the process.
    /// `reason`: why the kernel's ptrace access check refused (PtraceAccess).
    case permissionDenied(path: String, errno: KernelErrno, reason: String = "")
    /// /proc/PID exists but has no `timers` file: a kernel without
    /// CONFIG_CHECKPOINT_RESTORE (docs/kernel-facts.md section 1).
    case noTimersFile(path: String)
    /// The text is not in the format of docs/kernel-facts.md section 1.
    case malformed(path: String, ProcTimersParseError)
    /// The timer list kept changing between read()s.
    case changedWhileRead(pid: Int32, path: String, DuplicateTimerID)
    /// Any other failed call.
    case io(call: String, path: String, errno: KernelErrno)

    public var description: String {
        switch self {
        case let .noSuchProcess(pid): return "no process with pid \(pid) (no /proc/\(pid))"
        case let .exited(pid): return "process \(pid) has exited (a zombie): its timers are gone"
        case let .exitedWhileRead(pid): return "process \(pid) exited while its timers were being read"
        case let .notAProcess(pid, group):
            return "pid \(pid) is a thread of process \(group), not a process: dump \(group)"
        case let .kernelThread(pid):
            return "pid \(pid) is a kernel thread, not a user process: it has no POSIX timers to dump"
        case let .permissionDenied(path, errno, reason):
            return "\(path): \(errno.name): permission denied ("
                + (reason.isEmpty ? "reading it needs the right to ptrace the process" : reason) + ")"
        case let .noTimersFile(path):
            return "\(path) does not exist: this kernel has no /proc/PID/timers (it needs CONFIG_CHECKPOINT_RESTORE)"
        case let .malformed(path, error): return "\(path): \(error)"
        case let .changedWhileRead(pid, path, error):
            return "process \(pid): its timers kept changing: \(path): \(error), on every try"
        case let .io(call, path, errno): return "\(call)(\(path)): \(errno.name): \(errno.message)"
        }
    }
}

/// Reads /proc for `dump`: the one place where timer-criu opens /proc files.
public enum ProcFS {
    /// The bytes of PROC/PID/timers, read with 64 KiB buffers: the kernel
    /// walks its timer list from the start for every read() (at most one page
    /// each), so small reads make 90,000 timers take seconds (docs/kernel-facts.md 1).
    ///
    /// - Parameter procRoot: where procfs is mounted; tests point it at a
    ///   directory of their own to play a kernel without `timers`.
    public static func readTimers(pid: Int32, procRoot: String = "/proc") throws(ProcReadError) -> [UInt8] {
        let directory = "\(procRoot)/\(pid)"
        try requireProcess(pid: pid, directory: directory)
        return try readTimersFile(pid: pid, procRoot: procRoot)
    }

    static func readTimersFile(pid: Int32, procRoot: String) throws(ProcReadError) -> [UInt8] {
        let directory = "\(procRoot)/\(pid)"
        let path = "\(directory)/timers"
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) } catch {
            let e = KernelErrno(thrown: error)
            switch e {
            case .ENOENT:
                // Gone in between, or a kernel without the file.
                if !exists(directory) { throw .exitedWhileRead(pid: pid) }
                throw .noTimersFile(path: path)
            case .ESRCH: throw .exitedWhileRead(pid: pid)
            case .EACCES, .EPERM:
                throw .permissionDenied(path: path, errno: e, reason: PtraceAccess.whyRefused(pid: pid, procRoot: procRoot))
            default: throw .io(call: "open", path: path, errno: e)
            }
        }
        defer { _ = try? fd.close() }

        var bytes: [UInt8] = []
        // Each read() returns at most one page, whatever the buffer size.
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n: Int
            do { n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } } catch {
                let e = KernelErrno(thrown: error)
                // The seq_file start gets ESRCH once the task or its sighand is gone.
                if e == .ESRCH { throw .exitedWhileRead(pid: pid) }
                if e == .EACCES || e == .EPERM {
                    throw .permissionDenied(path: path, errno: e, reason: PtraceAccess.whyRefused(pid: pid, procRoot: procRoot))
                }
                throw .io(call: "read", path: path, errno: e)
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// The process's thread ids (PROC/PID/task), the main thread first and the
    /// others ascending.
    public static func threads(pid: Int32, procRoot: String = "/proc") throws(ProcReadError) -> [Int32] {
        let directory = "\(procRoot)/\(pid)"
        let path = "\(directory)/task"
        let tids: [Int32]
        do { tids = try DirectoryListing.numberedNames(path) } catch {
            let e = KernelErrno(error)
            switch e {
            case .ENOENT, .ESRCH:
                if !exists(directory) { throw .exitedWhileRead(pid: pid) }
                // A fake proc root without task/: the process alone.
                return [pid]
            case .EACCES, .EPERM:
                throw .permissionDenied(path: path, errno: e, reason: PtraceAccess.whyRefused(pid: pid, procRoot: procRoot))
            default: throw .io(call: "opendir", path: path, errno: e)
            }
        }
        let others = tids.filter { $0 != pid }
        let sawMain = others.count < tids.count
        // An empty task/ means the process is a zombie or exiting.
        guard sawMain || !others.isEmpty else { throw .exitedWhileRead(pid: pid) }
        return [pid] + others.sorted()
    }

    /// The checkpoint of process `pid` from /proc: its threads, then its
    /// POSIX timers, then its timerfds (fd + fdinfo), the timers read again, up to 3 times, if the list changed mid-read), then a
    /// check that the process is still alive: a zombie shows no timers at all,
    /// since exit_itimers() ran at exit.
    ///
    /// - Parameter pauseNanoseconds: a sleep between reading the threads and
    ///   the timers, only for tests that kill the process while it is read.
    public static func checkpoint(pid: Int32, procRoot: String = "/proc", kernel: String = HostKernel.release,
                                  pauseNanoseconds: Int64 = 0) throws(ProcReadError) -> Checkpoint {
        let directory = "\(procRoot)/\(pid)"
        let path = "\(directory)/timers"
        try requireProcess(pid: pid, directory: directory)
        if isGone(pid: pid, procRoot: procRoot) { throw .exited(pid: pid) }
        if try stat(directory)?.isKernelThread == true { throw .kernelThread(pid: pid) }
        var lastDuplicate = DuplicateTimerID(id: 0)
        for _ in 0..<3 {
            let threads = try threads(pid: pid, procRoot: procRoot)
            if pauseNanoseconds > 0 {
                HostKernel.sleep(nanoseconds: pauseNanoseconds)
            }
            let bytes = try readTimersFile(pid: pid, procRoot: procRoot)
            if isGone(pid: pid, procRoot: procRoot) { throw .exitedWhileRead(pid: pid) }
            let records: [ProcTimer]
            do {
                records = try ProcTimersParser.parse(bytes)
            } catch {
                throw .malformed(path: path, error)
            }
            var checkpoint: Checkpoint
            do {
                checkpoint = try Checkpoint(pid: pid, kernel: kernel, threads: threads, procTimers: records)
            } catch {
                lastDuplicate = error
                continue
            }
            try addTimerFDs(to: &checkpoint, procRoot: procRoot)
            if isGone(pid: pid, procRoot: procRoot) { throw .exitedWhileRead(pid: pid) }
            return checkpoint
        }
        throw .changedWhileRead(pid: pid, path: path, lastDuplicate)
    }

    /// Fails unless PROC/PID is a process (not missing, not another
    /// process's thread: /proc/TID works too and shows the whole process).
    static func requireProcess(pid: Int32, directory: String) throws(ProcReadError) {
        guard exists(directory) else { throw .noSuchProcess(pid: pid) }
        if let group = try status(directory)?.threadGroup, group != pid {
            throw .notAProcess(pid: pid, threadGroup: group)
        }
    }

    /// True when the process is no longer there or every thread of it is a
    /// zombie (`State: Z`) or dead (`X`): its timers were deleted when the
    /// thread group exited. The leader's state alone does not say it: after
    /// `main` calls pthread_exit the leader shows Z while the other threads
    /// run and the timers (owned by the thread group) live on.
    static func isGone(pid: Int32, procRoot: String) -> Bool {
        guard exists("\(procRoot)/\(pid)") else { return true }
        return liveThreads(pid: pid, procRoot: procRoot).isEmpty
    }

    /// The threads of process `pid` that have not exited (State neither Z
    /// nor X), the leader first when it is alive. Empty once the whole thread
    /// group has exited.
    public static func liveThreads(pid: Int32, procRoot: String = "/proc") -> [Int32] {
        let directory = "\(procRoot)/\(pid)"
        /// nil: no status, or none with a State line.
        func alive(_ directory: String) -> Bool? {
            guard let status = try? status(directory), status.state != nil else { return nil }
            return !status.hasExited
        }
        guard exists("\(directory)/task") else {
            // A fake proc root without task/: the leader's state is all there is.
            guard exists(directory) else { return [] }
            return alive(directory) ?? true ? [pid] : []
        }
        guard let tids = try? threads(pid: pid, procRoot: procRoot) else { return [] }
        // A thread whose status cannot be read any more has just been reaped.
        return tids.filter { tid in alive("\(directory)/task/\(tid)") ?? false }
    }

    /// PF_KTHREAD in the flags of PROC/PID/stat (the `Kthread:` status line
    /// exists only since Linux 6.x); false when the file cannot be read.
    static func isKernelThread(directory: String) -> Bool {
        (try? stat(directory))?.isKernelThread ?? false
    }

    static func exists(_ path: String) -> Bool {
        (try? FilePath(path).stat()) != nil
    }

    /// DIRECTORY/status (a process's or a task's), parsed; nil when it cannot
    /// be read (the task is gone; a fake proc root may have none).
    public static func status(_ directory: String) throws(ProcReadError) -> ProcStatus? {
        let path = directory + "/status"
        guard let bytes = SmallFile.readBytes(path) else { return nil }
        do { return try ProcStatus(bytes) } catch { throw .malformed(path: path, error) }
    }

    /// PROC/PID/status, nil when it cannot be read or parsed.
    public static func status(pid: Int32, procRoot: String = "/proc") -> ProcStatus? {
        try? status("\(procRoot)/\(pid)")
    }

    /// DIRECTORY/stat parsed; nil when it cannot be read.
    public static func stat(_ directory: String) throws(ProcReadError) -> ProcStat? {
        let path = directory + "/stat"
        guard let bytes = SmallFile.readBytes(path) else { return nil }
        do { return try ProcStat(bytes) } catch { throw .malformed(path: path, error) }
    }

    /// Yama's /proc/sys/kernel/yama/ptrace_scope (0 to 3); nil without Yama.
    static func yamaPtraceScope(procRoot: String = "/proc") -> Int? {
        SmallFile.read(procRoot + "/sys/kernel/yama/ptrace_scope").flatMap { Int($0.filter { !$0.isWhitespace }) }
    }
}
