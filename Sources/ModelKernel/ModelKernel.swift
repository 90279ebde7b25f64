import TimerCore

/// Capabilities a model process may hold (the ones timers care about).
public struct ModelCapabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// CAP_CHECKPOINT_RESTORE: needed to write the rfd-cursor sysctl.
    public static let checkpointRestore = ModelCapabilities(rawValue: 1)
    /// CAP_WAKE_ALARM: needed for alarm clocks 8 and 9 (with an RTC).
    public static let wakeAlarm = ModelCapabilities(rawValue: 2)
}

/// One simulated machine: a kernel profile, a virtual clock, a pid allocator
/// (pid 1 is "init", so CPU clocks naming pid 1 work as on the host), the
/// global ID space of linux-2.6 and RLIMIT_SIGPENDING counted per user
/// across all its processes (docs/kernel-facts.md section 2). Pure Swift: no syscall
/// is made. Not thread-safe: one machine belongs to one thread.
public final class ModelKernel {
    public let profile: KernelProfile
    /// RLIMIT_SIGPENDING of the (single) user all model processes run as.
    public let sigpendingLimit: Int
    /// This machine has no RTC: alarm clocks give EOPNOTSUPP like the host.
    public var hasRTC: Bool {
        get { shared.pointee.hasRTC }
        set { shared.pointee.hasRTC = newValue }
    }
    /// The virtual clock in nanoseconds; starts at 0. Every clock (realtime,
    /// monotonic, CPU clocks) reads it: model processes are always running.
    public var now: Int64 { shared.pointee.now }
    /// CLOCK_REALTIME now.
    public var realtime: Int64 { shared.pointee.realtimeOffset &+ shared.pointee.now }
    /// clock_settime(CLOCK_REALTIME): e.g. to the dump's wall clock, as if
    /// the restore followed the dump at once.
    public func setRealtime(_ nanoseconds: Int64) { shared.pointee.realtimeOffset = nanoseconds &- shared.pointee.now }
    /// Timers of all processes (each holds a preallocated sigqueue).
    public var sigpendingCount: Int { shared.pointee.sigpendingCount }

    /// What syscalls touch, in memory of its own: class properties would cost
    /// a dynamic exclusivity check per access on the hot path.
    struct Shared {
        var now: Int64 = 0
        var sigpendingCount = 0
        var sigpendingLimit: Int
        var nextSequence: UInt64 = 0
        var hasRTC = false
        /// CLOCK_REALTIME - `now`: the wall clock (2026-01-01 00:00 UTC at boot
        /// unless set); monotonic and boottime read `now` itself.
        var realtimeOffset: Int64 = 1_767_225_600_000_000_000
        /// linux-2.6's one IDR shared by all processes.
        var globalIDs = LowestFreeIDs()
    }
    let shared: UnsafeMutablePointer<Shared>

    /// The first pid handed out after init's.
    public static let firstPID: Int32 = 1000

    private var nextPID: Int32 = ModelKernel.firstPID
    /// Live thread-group ids (pid 1 included) and, per live tid, its tgid.
    private var threadGroupOf: [Int32: Int32] = [1: 1]
    private var processes: [Int32: WeakProcess] = [:]

    public init(profile: KernelProfile = .linux615, sigpendingLimit: Int = 96_365) {
        self.profile = profile
        self.sigpendingLimit = sigpendingLimit
        shared = .allocate(capacity: 1)
        shared.initialize(to: Shared(sigpendingLimit: sigpendingLimit))
    }

    deinit {
        shared.deinitialize(count: 1)
        shared.deallocate()
    }

    /// A new process (fresh allocator state: counter 0, create-at-ID mode off)
    /// with a main thread and `extraThreads` more; pids and tids come from one
    /// allocator, like the kernel's.
    public func spawnProcess(extraThreads: Int = 0,
                             capabilities: ModelCapabilities = [.checkpointRestore]) -> ModelProcess {
        let pid = allocatePID()
        var tids = [pid]
        for _ in 0..<max(0, extraThreads) { tids.append(allocatePID()) }
        for tid in tids { threadGroupOf[tid] = pid }
        let process = ModelProcess(kernel: self, pid: pid, threadIDs: tids, capabilities: capabilities)
        processes[pid] = WeakProcess(process: process)
        return process
    }

    /// The process exits: its timers are freed (and their sigqueues), its pid
    /// and tids disappear. Calls on it afterwards fail with ESRCH.
    public func exitProcess(_ process: ModelProcess) {
        guard !process.hasExited else { return }
        process.releaseAllTimers()
        process.hasExited = true
        for tid in process.threadIDs { threadGroupOf[tid] = nil }
        processes[process.processID] = nil
    }

    /// Lets time pass for the whole machine: every armed timer of every live
    /// process whose expiry is reached fires (interval timers re-arm).
    public func advanceTime(byNanoseconds nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        let (sum, overflow) = now.addingReportingOverflow(nanoseconds)
        shared.pointee.now = overflow ? .max : sum
        for entry in processes.values { entry.process?.fireExpiredTimers(now: now) }
    }

    /// Live processes (not their threads), pid 1 included.
    public var processIDs: [Int32] {
        threadGroupOf.filter { $0.key == $0.value }.map(\.key).sorted()
    }

    // MARK: Used by ModelProcess

    /// Whether `pid` names a live thread group leader (a process).
    func isProcess(_ pid: Int32) -> Bool { threadGroupOf[pid] == pid }

    func allocatePID() -> Int32 {
        while threadGroupOf[nextPID] != nil { nextPID += 1 }
        defer { nextPID += 1 }
        return nextPID
    }


    func processGone(_ pid: Int32, threadIDs: [Int32]) {
        for tid in threadIDs where threadGroupOf[tid] == pid { threadGroupOf[tid] = nil }
        processes[pid] = nil
    }

    private struct WeakProcess {
        weak var process: ModelProcess?
    }
}
