#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore
import TimerFormats

/// The timerfds of a process from /proc/PID/fd and /proc/PID/fdinfo (no
/// ptrace: the same access check as /proc/PID/timers).
extension ProcFS {
    /// What `/proc/PID/fd/N` links to for a timerfd.
    static let timerFDLink = "anon_inode:[timerfd]"

    /// Every timerfd of `pid`, by fd number, with the fds that are one open
    /// file (kcmp KCMP_FILE; all timerfds share one anon inode, so fdinfo's
    /// `ino` cannot tell) and a note when that could not be checked. An fd
    /// closed while being read is left out.
    public static func timerFDs(pid: Int32, procRoot: String = "/proc") throws(ProcReadError)
        -> (timerFDs: [CheckpointTimerFD], sharedGroups: [[Int32]], warnings: [String]) {
        let (directory, task) = fdTableDirectory(pid: pid, procRoot: procRoot)
        let path = "\(directory)/fd"
        let fds: [Int32]
        do { fds = try DirectoryListing.numberedNames(path) } catch {
            let e = KernelErrno(error)
            switch e {
            case .ENOENT, .ESRCH:
                if !exists(directory) { throw .exitedWhileRead(pid: pid) }
                return ([], [], [])   // a fake proc root without fd/, or the thread exited
            case .EACCES, .EPERM: throw .permissionDenied(path: path, errno: e)
            default: throw .io(call: "opendir", path: path, errno: e)
            }
        }
        var found: [CheckpointTimerFD] = []
        var link = [CChar](repeating: 0, count: 64)
        for fd in fds.sorted() {
            let n = readlink("\(path)/\(fd)", &link, link.count - 1)
            if n < 0 {
                let e = KernelErrno(rawValue: errno)
                if e == .ENOENT { continue }           // closed meanwhile
                if e == .EACCES || e == .EPERM { throw .permissionDenied(path: "\(path)/\(fd)", errno: e) }
                throw .io(call: "readlink", path: "\(path)/\(fd)", errno: e)
            }
            let target = String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard target == timerFDLink else { continue }
            let infoPath = "\(directory)/fdinfo/\(fd)"
            guard let bytes = SmallFile.readBytes(infoPath) else {
                if !exists(directory) { throw .exitedWhileRead(pid: pid) }
                continue                                // closed meanwhile
            }
            do {
                found.append(CheckpointTimerFD(fd: fd, info: try TimerFDInfoParser.parse(bytes)))
            } catch {
                throw .malformed(path: infoPath, error)
            }
        }
        let (groups, warnings) = sharedFiles(pid: task, fds: found.map(\.fd))
        return (found, groups, warnings)
    }

    /// Where the process's fd table shows: /proc/PID, or /proc/PID/task/TID
    /// of its first live thread when the main thread has exited (a zombie
    /// leader's fd/ is empty: its files went with it). `task` is the thread
    /// to name to kcmp.
    static func fdTableDirectory(pid: Int32, procRoot: String = "/proc") -> (directory: String, task: Int32) {
        guard let first = liveThreads(pid: pid, procRoot: procRoot).first, first != pid else {
            return ("\(procRoot)/\(pid)", pid)
        }
        return ("\(procRoot)/\(pid)/task/\(first)", first)
    }

    /// The open fd numbers of `pid` (of a live thread's table, as above);
    /// nil when the directory cannot be read.
    public static func openFDs(pid: Int32, procRoot: String = "/proc") -> Set<Int32>? {
        (try? DirectoryListing.numberedNames("\(fdTableDirectory(pid: pid, procRoot: procRoot).directory)/fd")).map(Set.init)
    }

    /// Groups of fds that are one open file, found by sorting with kcmp as the
    /// comparator (n log n calls, not n²).
    static func sharedFiles(pid: Int32, fds: [Int32]) -> (groups: [[Int32]], warnings: [String]) {
        guard fds.count > 1 else { return ([], []) }
        var failure: KernelErrno?
        func order(_ a: Int32, _ b: Int32) -> Int {
            let r = tc_kcmp_file(pid, pid, a, b)
            if r < 0 { failure = failure ?? KernelErrno(rawValue: errno); return 0 }
            return r
        }
        let sorted = fds.sorted { order($0, $1) == 1 }
        if let failure {
            return ([], ["could not check whether timerfds are shared (dup'ed): kcmp: \(failure.name)"])
        }
        var groups: [[Int32]] = []
        var current = [sorted[0]]
        for fd in sorted.dropFirst() {
            if order(current[0], fd) == 0 { current.append(fd) } else {
                if current.count > 1 { groups.append(current.sorted()) }
                current = [fd]
            }
        }
        if current.count > 1 { groups.append(current.sorted()) }
        return (groups.sorted { $0[0] < $1[0] }, [])
    }

    /// CLOCK_REALTIME, MONOTONIC and BOOTTIME now.
    public static func readClocks() -> DumpClocks {
        func now(_ clock: clockid_t) -> Int64 {
            var ts = timespec()
            clock_gettime(clock, &ts)
            return ts.nanoseconds
        }
        return DumpClocks(realtimeNanoseconds: now(CLOCK_REALTIME), monotonicNanoseconds: now(CLOCK_MONOTONIC),
                          boottimeNanoseconds: now(CLOCK_BOOTTIME))
    }

    /// Adds the timerfds of `checkpoint.pid` (and the clocks, read right
    /// before their fdinfo) with their warnings.
    public static func addTimerFDs(to checkpoint: inout Checkpoint, procRoot: String = "/proc") throws(ProcReadError) {
        let clocks = readClocks()
        let (timerFDs, groups, notes) = try timerFDs(pid: checkpoint.pid, procRoot: procRoot)
        checkpoint.timerFDs = timerFDs
        if !timerFDs.isEmpty { checkpoint.dumpClocks = clocks }
        checkpoint.warnings += notes + Checkpoint.timerFDWarnings(timerFDs, sharedGroups: groups)
    }
}
