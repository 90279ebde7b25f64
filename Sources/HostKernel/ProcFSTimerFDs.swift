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
        // A live leader (the common case) answers without reading every thread's status.
        if let leader = try? status("\(procRoot)/\(pid)"), leader.state != nil, !leader.hasExited {
            return ("\(procRoot)/\(pid)", pid)
        }
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
        let (groups, failure) = sameFiles(fds.map { (task: pid, fd: $0) })
        if let failure {
            return ([], ["could not check whether timerfds are shared (dup'ed): kcmp: \(failure.name)"])
        }
        return (groups.map { $0.map(\.fd).sorted() }.sorted { $0[0] < $1[0] }, [])
    }

    /// Timerfds that are one open file in several processes of a tree
    /// (inherited across fork, passed over a socket): kcmp(KCMP_FILE) across
    /// pids orders files the same way as within one, so one sort finds them.
    /// The warnings to add, by pid.
    public static func timerFDsShared(across processes: [(pid: Int32, fds: [Int32])]) -> [Int32: [String]] {
        let items = processes.flatMap { process in
            let task = fdTableDirectory(pid: process.pid).task
            return process.fds.map { (task: task, fd: $0, pid: process.pid) }
        }
        guard Set(items.map(\.pid)).count > 1 else { return [:] }
        let (groups, failure) = sameFiles(items.map { (task: $0.task, fd: $0.fd) })
        var warnings: [Int32: [String]] = [:]
        if let failure {
            for process in processes where !process.fds.isEmpty {
                warnings[process.pid] = ["could not check whether timerfds are shared with other processes of the tree: kcmp: \(failure.name)"]
            }
            return warnings
        }
        var lines: [(pid: Int32, fd: Int32, text: String)] = []
        let pidOf = Dictionary(items.map { ("\($0.task)/\($0.fd)", $0.pid) }, uniquingKeysWith: { a, _ in a })
        for group in groups {
            let members = group.map { (pid: pidOf["\($0.task)/\($0.fd)"]!, fd: $0.fd) }.sorted { ($0.pid, $0.fd) < ($1.pid, $1.fd) }
            guard Set(members.map(\.pid)).count > 1 else { continue }
            for member in members {
                let others = members.filter { $0.pid != member.pid || $0.fd != member.fd }
                lines.append((member.pid, member.fd, "timerfd \(member.fd) is one timer with "
                    + others.map { $0.pid == member.pid ? "its fd \($0.fd)" : "fd \($0.fd) of process \($0.pid)" }
                        .joined(separator: ", ")
                    + " (inherited across fork or passed): restored as separate timers"))
            }
        }
        for line in lines.sorted(by: { ($0.pid, $0.fd) < ($1.pid, $1.fd) }) { warnings[line.pid, default: []].append(line.text) }
        return warnings
    }

    /// Groups (of two or more) of (thread, fd) that are one open file, sorted
    /// with kcmp(KCMP_FILE) as the comparator; the first kcmp failure, if any.
    static func sameFiles(_ items: [(task: Int32, fd: Int32)]) -> (groups: [[(task: Int32, fd: Int32)]], failure: KernelErrno?) {
        guard items.count > 1 else { return ([], nil) }
        var failure: KernelErrno?
        func order(_ a: (task: Int32, fd: Int32), _ b: (task: Int32, fd: Int32)) -> Int {
            let r = tc_kcmp_file(a.task, b.task, a.fd, b.fd)
            if r < 0 { failure = failure ?? KernelErrno(rawValue: errno); return 0 }
            return r
        }
        let sorted = items.sorted { order($0, $1) == 1 }
        if let failure { return ([], failure) }
        var groups: [[(task: Int32, fd: Int32)]] = []
        var current = [sorted[0]]
        for item in sorted.dropFirst() {
            if order(current[0], item) == 0 { current.append(item) } else {
                if current.count > 1 { groups.append(current) }
                current = [item]
            }
        }
        if current.count > 1 { groups.append(current) }
        return (groups, failure)
    }

    /// CLOCK_REALTIME, MONOTONIC and BOOTTIME now.
    public static func readClocks() -> DumpClocks {
        DumpClocks(realtimeNanoseconds: HostKernel.clockNow(.realtime), monotonicNanoseconds: HostKernel.clockNow(.monotonic),
                   boottimeNanoseconds: HostKernel.clockNow(.boottime))
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
