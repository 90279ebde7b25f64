import CTimerSyscalls
import Foundation
import TimerCore
#if canImport(Glibc)
import Glibc
#endif

/// Finds processes a test leaked. A process whose parent dies is re-parented
/// to the nearest child subreaper, else to init, where a test looking at its
/// own children never sees it. So the test process becomes a subreaper
/// (prctl(PR_SET_CHILD_SUBREAPER), Linux 3.4): a leaked grandchild then turns
/// up among its children.
public enum LeakedProcesses {
    /// PR_SET_CHILD_SUBREAPER (include/uapi/linux/prctl.h).
    static let setChildSubreaper: Int32 = 36

    /// Makes the test process a child subreaper (once; it stays one).
    public static func becomeSubreaper() throws {
        guard tc_prctl(setChildSubreaper, 1, 0, 0, 0) == 0 else {
            throw TestSupportError("prctl(PR_SET_CHILD_SUBREAPER): errno \(errno)")
        }
    }

    /// The live (not zombie) children of the test process; zombies among
    /// them (orphans that already died) are reaped on the way.
    public static func liveChildren() -> Set<Int32> {
        var live: Set<Int32> = []
        let me = getpid()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
                  let stat = try? ProcStat(Array(data)), stat.parentProcessID == me else { continue }
            if stat.state == "Z" {
                var status: Int32 = 0
                _ = waitpid(pid, &status, WNOHANG)
            } else {
                live.insert(pid)
            }
        }
        return live
    }

    /// The live children that appeared since `before`, waiting up to
    /// `seconds` for them to go (a helper killed by PR_SET_PDEATHSIG needs a
    /// moment to die).
    public static func leakedSince(_ before: Set<Int32>, seconds: Double = 5) -> Set<Int32> {
        let deadline = Date().addingTimeInterval(seconds)
        var leaked = liveChildren().subtracting(before)
        while !leaked.isEmpty && Date() < deadline {
            usleep(20_000)
            leaked = liveChildren().subtracting(before)
        }
        return leaked
    }

    /// `pid`'s command line, for a failure message.
    public static func commandLine(_ pid: Int32) -> String {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return String(decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}
