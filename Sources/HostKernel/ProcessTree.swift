#if canImport(Glibc)
import Glibc
#endif
import TimerCore
import TimerFormats

/// A process and its descendants as /proc shows them, for `dump --tree`.
public enum ProcessTree {
    /// `pid` and all its descendants, parents before children (preorder,
    /// children by ascending pid), each with its parent's pid.
    ///
    /// Children come from PROC/PID/task/TID/children of every thread (a child
    /// belongs to the thread that forked it). Kernels without
    /// CONFIG_PROC_CHILDREN have no such file: then every PROC/N/stat is
    /// scanned for its ppid. The tree is not frozen: a process that exits
    /// meanwhile is simply not listed, one forked meanwhile may be missed.
    public static func descendants(of pid: Int32, procRoot: String = "/proc") throws(ProcReadError)
        -> [CheckpointTreeEntry]
    {
        try ProcFS.requireProcess(pid: pid, directory: "\(procRoot)/\(pid)")
        let rootParent = parentPID(of: pid, procRoot: procRoot) ?? 0
        var entries = [CheckpointTreeEntry(pid: pid, ppid: rootParent, file: CheckpointTreeIndex.fileName(pid: pid))]
        var parentOf: [Int32: Int32]? = nil  // the /proc scan, made at most once
        var queue = [pid]
        var seen: Set<Int32> = [pid]
        while let parent = queue.popLast() {
            var kids: [Int32]
            if let listed = childrenFiles(of: parent, procRoot: procRoot) {
                kids = listed
            } else {
                if parentOf == nil { parentOf = scanParents(procRoot: procRoot) }
                kids = parentOf!.filter { $0.value == parent }.map(\.key)
            }
            for kid in kids.sorted() where seen.insert(kid).inserted {
                entries.append(CheckpointTreeEntry(pid: kid, ppid: parent, file: CheckpointTreeIndex.fileName(pid: kid)))
                queue.append(kid)
            }
        }
        return CheckpointTreeIndex.parentsFirst(root: pid, entries)
    }

    /// The union of PROC/PID/task/*/children; nil if the kernel has no such
    /// files (or the process's task directory cannot be listed).
    static func childrenFiles(of pid: Int32, procRoot: String) -> [Int32]? {
        guard let threads = try? ProcFS.threads(pid: pid, procRoot: procRoot) else { return nil }
        var kids: [Int32] = []
        var sawFile = false
        for tid in threads {
            guard let text = SmallFile.read("\(procRoot)/\(pid)/task/\(tid)/children") else { continue }
            sawFile = true
            kids += text.split(separator: " ").compactMap { Int32($0.trimmingCharacters()) }
        }
        return sawFile ? kids : nil
    }

    /// Every process's parent, from PROC/N/stat.
    static func scanParents(procRoot: String) -> [Int32: Int32] {
        var parents: [Int32: Int32] = [:]
        for pid in (try? DirectoryListing.numberedNames(procRoot)) ?? [] {
            if let ppid = parentPID(of: pid, procRoot: procRoot) { parents[pid] = ppid }
        }
        return parents
    }

    /// Field 4 of PROC/PID/stat.
    public static func parentPID(of pid: Int32, procRoot: String = "/proc") -> Int32? {
        (try? ProcFS.stat("\(procRoot)/\(pid)"))?.parentProcessID
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> Substring {
        var s = self
        while let c = s.last, c == "\n" || c == " " { s.removeLast() }
        while let c = s.first, c == "\n" || c == " " { s.removeFirst() }
        return s
    }
}
