#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore

/// The real kernel, acting on the calling process: every call is one raw
/// syscall through CTimerSyscalls (glibc's timer_create would hide the ID
/// buffer create-at-ID mode reads, docs/kernel-facts.md section 3).
///
/// Strategies run on it inside the process whose timers are being restored
/// (the restore helper, or a `simulate --kernel host` child).
public final class HostKernel: TimerKernel {
    public let kernelName: String
    public let restoreInterfaces: RestoreInterfaces
    public let processID: Int32
    /// The main thread first, then the threads started by `HostThreads`.
    public private(set) var threadIDs: [Int32]

    /// - Parameter extraThreads: threads to start (each blocks all signals and
    ///   sleeps until the process exits), for thread_id notify targets.
    public init(extraThreads: Int = 0) {
        processID = getpid()
        kernelName = "host \(HostKernel.release)"
        var interfaces: RestoreInterfaces = []
        // prctl GET answers EINVAL before 6.15 (docs/kernel-facts.md section 3).
        if (try? TimerSyscalls.restoreIDs(.get)) != nil {
            interfaces.insert(.createAtID)
        }
        restoreInterfaces = interfaces
        threadIDs = [processID] + HostThreads.start(count: extraThreads)
    }

    /// `uname -r`.
    public static var release: String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// `setrlimit(RLIMIT_SIGPENDING, {limit, limit})` for the calling process:
    /// every later timer_create counts against it (the count itself covers all
    /// of the user's processes). Lowering works unprivileged; raising the hard
    /// limit needs CAP_SYS_RESOURCE (EPERM).
    public static func setSigpendingLimit(_ limit: Int) throws(KernelErrno) {
        var value = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
        _ = try TimerSyscalls.check(Int(setrlimit(__rlimit_resource_t(__RLIMIT_SIGPENDING.rawValue), &value)))
    }

    /// Turns a libc-style `-1 and errno` result into a typed errno.
    @inline(__always)
    static func check(_ result: Int) throws(KernelErrno) -> Int { try TimerSyscalls.check(result) }

    @inline(__always)
    public func timerCreate(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32) throws(KernelErrno) -> Int32 {
        try TimerSyscalls.create(clock: clock, sigevent: sigevent, idBuffer: idBuffer)
    }

    @inline(__always)
    public func timerDelete(_ id: Int32) throws(KernelErrno) {
        try TimerSyscalls.delete(id)
    }

    @discardableResult
    public func timerSettime(_ id: Int32, absolute: Bool, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        try TimerSyscalls.settime(id, absolute: absolute, value)
    }

    public func timerGettime(_ id: Int32) throws(KernelErrno) -> TimerValue {
        try TimerSyscalls.gettime(id)
    }

    public func timerGetoverrun(_ id: Int32) throws(KernelErrno) -> Int32 {
        try TimerSyscalls.getoverrun(id)
    }

    @discardableResult
    public func prctlRestoreIDs(_ op: RestoreIDsOperation) throws(KernelErrno) -> Int32 {
        try TimerSyscalls.restoreIDs(op)
    }

    /// No merged kernel has the cursor sysctl (it was only proposed in 2023).
    public func writeTimerIDCursor(_ id: Int32) throws(KernelErrno) {
        throw .ENOENT
    }

    public func readProcTimers() throws -> [UInt8] {
        try ProcFS.readTimers(pid: processID)
    }

    /// No kernel interface sets a timer's overrun count (docs/kernel-facts.md section 6).
    public func restoreOverrun(_ id: Int32, count: Int32) -> Bool { false }

    public func advanceTime(byNanoseconds nanoseconds: Int64) {
        Self.sleep(nanoseconds: nanoseconds)
    }

    /// nanosleep(2) for the whole time: after a signal handler's EINTR the
    /// rest is slept.
    public static func sleep(nanoseconds: Int64) {
        var request = timespec(nanoseconds: nanoseconds)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

extension timespec {
    init(nanoseconds: Int64) {
        self.init(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }
    var nanoseconds: Int64 { Int64(tv_sec) * 1_000_000_000 + Int64(tv_nsec) }
}

extension itimerspec {
    init(_ value: TimerValue) {
        self.init(it_interval: timespec(nanoseconds: value.intervalNanoseconds),
                  it_value: timespec(nanoseconds: value.valueNanoseconds))
    }
}

extension TimerValue {
    init(_ spec: itimerspec) {
        self.init(valueNanoseconds: spec.it_value.nanoseconds, intervalNanoseconds: spec.it_interval.nanoseconds)
    }
}

/// Threads that exist only to be notify targets (SIGEV_THREAD_ID): each
/// blocks every signal and sleeps until the process exits.
public enum HostThreads {
    /// Starts `count` threads and returns their tids, in start order.
    public static func start(count: Int) -> [Int32] {
        guard count > 0 else { return [] }
        var tids: [Int32] = []
        for _ in 0..<count {
            let box = TidBox()
            var thread = pthread_t()
            let context = Unmanaged.passRetained(box).toOpaque()
            let rc = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<TidBox>.fromOpaque(raw!).takeRetainedValue()
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                box.publish(tc_gettid())
                while true { pause() }
            }, context)
            precondition(rc == 0, "pthread_create: \(rc)")
            pthread_detach(thread)
            tids.append(box.wait())
        }
        return tids
    }

    private final class TidBox {
        private var mutex = pthread_mutex_t()
        private var condition = pthread_cond_t()
        private var tid: Int32 = 0
        init() {
            pthread_mutex_init(&mutex, nil)
            pthread_cond_init(&condition, nil)
        }
        func publish(_ value: Int32) {
            pthread_mutex_lock(&mutex)
            tid = value
            pthread_cond_signal(&condition)
            pthread_mutex_unlock(&mutex)
        }
        func wait() -> Int32 {
            pthread_mutex_lock(&mutex)
            while tid == 0 { pthread_cond_wait(&condition, &mutex) }
            let value = tid
            pthread_mutex_unlock(&mutex)
            return value
        }
    }
}

/// SIGINT/SIGTERM recorded instead of killing the process, so long loops (a
/// dance to a high ID) stop cleanly and report where they were.
public enum StopSignals {
    /// Installs the recording handler for SIGINT and SIGTERM.
    public static func catchInterruptAndTerminate() {
        tc_catch_stop_signal(SIGINT)
        tc_catch_stop_signal(SIGTERM)
    }
    /// The last of them received, 0 if none.
    public static var received: Int32 { tc_stop_signal() }
    /// The stderr line of a run that a stop signal ended (exit 130), the
    /// same for SIGINT and SIGTERM, with or without --json.
    public static var interruptionLine: String {
        "timer-criu: interrupted by \(received == SIGTERM ? "SIGTERM" : "SIGINT"): "
            + "the restore stopped; the report lists the timers that exist\n"
    }
}
