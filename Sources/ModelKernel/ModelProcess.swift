import TimerCore

/// One process of a model machine: its threads, its live timers, its ID
/// allocator state and its capabilities. Implements `TimerKernel` with the
/// errnos of the real kernel, checked in the real kernel's order
/// (docs/kernel-facts.md sections 2, 3, 5, 5b; order measured on 6.18, see
/// docs/model-kernel.md).
public final class ModelProcess: TimerKernel {
    public let kernel: ModelKernel
    public let profile: KernelProfile
    public let processID: Int32
    public let threadIDs: [Int32]
    /// The same tids as a set: good_sigevent() and the CPU-clock check look a
    /// tid up on every timer_create (an array made 96,000 threads quadratic).
    private let threadIDSet: Set<Int32>

    /// What syscalls touch, in memory of its own (no exclusivity checks).
    struct State {
        var timers = TimerTable()
        var timerIDCounter: UInt32 = 0
        var restoreIDsMode = false
        var hasExited = false
        var capabilities: ModelCapabilities
        var expiriesDelivered = 0
        /// rfd-dense's per-process lowest-free allocator.
        var denseIDs = LowestFreeIDs()
        /// The fd table (timerfds; 0, 1, 2 open from the start) and the
        /// three interval timers (ModelProcess+TimerFD.swift).
        var files = ModelFiles()
    }
    let state: UnsafeMutablePointer<State>
    let shared: UnsafeMutablePointer<ModelKernel.Shared>
    private let allocation: KernelProfile.Allocation

    init(kernel: ModelKernel, pid: Int32, threadIDs: [Int32], capabilities: ModelCapabilities) {
        self.kernel = kernel
        self.shared = kernel.shared
        self.profile = kernel.profile
        self.allocation = kernel.profile.allocation
        self.processID = pid
        self.threadIDs = threadIDs
        self.threadIDSet = Set(threadIDs)
        state = .allocate(capacity: 1)
        state.initialize(to: State(capabilities: capabilities))
    }

    deinit {
        if !state.pointee.hasExited {
            releaseAllTimers()
            kernel.processGone(processID, threadIDs: threadIDs)
        }
        state.pointee.timers.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    public var capabilities: ModelCapabilities { state.pointee.capabilities }
    /// prctl(PR_TIMER_CREATE_RESTORE_IDS) state: per process, off at start.
    public var restoreIDsMode: Bool { state.pointee.restoreIDsMode }
    /// `next_posix_timer_id` of the counter profiles: the next ID tried is
    /// `timerIDCounter & INT_MAX`.
    public var timerIDCounter: UInt32 { state.pointee.timerIDCounter }
    /// Expiries delivered so far (one per firing, overruns not counted).
    public var expiriesDelivered: Int { state.pointee.expiriesDelivered }
    var hasExited: Bool {
        get { state.pointee.hasExited }
        set { state.pointee.hasExited = newValue }
    }
    var timers: TimerTable { state.pointee.timers }

    public var kernelName: String { "\(profile.rawValue) (model)" }
    public var restoreInterfaces: RestoreInterfaces { profile.restoreInterfaces }
    public var liveTimerCount: Int { state.pointee.timers.count }
    /// Bytes held for this process's timers (slots, hash table, allocator).
    public var timerStorageBytes: Int { state.pointee.timers.bytes + state.pointee.denseIDs.bytes }

    /// E.g. to make the cursor sysctl answer EPERM.
    public func dropCapability(_ capability: ModelCapabilities) {
        state.pointee.capabilities.remove(capability)
    }

    /// Puts the counter where a long-running process could have it (tests:
    /// wrap-around without 2^31 creates).
    func setTimerIDCounterForTesting(_ value: UInt32) { state.pointee.timerIDCounter = value }

    // MARK: timer_create

    public func timerCreate(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32) throws(KernelErrno) -> Int32 {
        let st = state
        if st.pointee.hasExited { throw .ESRCH }
        let c = clock.rawValue
        // 1. clockid_to_kclock(): nothing is allocated yet.
        if c >= 0 {
            switch c {
            case 0, 1, 2, 3, 7, 8, 9, 11: break
            case 4, 5, 6: throw .EOPNOTSUPP          // clocks without timers
            default: throw .EINVAL                    // 10, 12...: no such clock
            }
        } else if c & 7 == 3 {
            throw .EOPNOTSUPP                         // FD clock: no timers
        }
        // 2. Create-at-ID mode reads the wanted ID (6.15+; before the sigqueue,
        //    measured: EINVAL, not EAGAIN, at RLIMIT_SIGPENDING 0).
        var wanted: Int32 = -1
        if st.pointee.restoreIDsMode {
            if idBuffer < 0 { throw .EINVAL }
            wanted = idBuffer
        }
        // 3. The preallocated sigqueue, counted per user.
        if shared.pointee.sigpendingCount >= shared.pointee.sigpendingLimit { throw .EAGAIN }
        // 4. The ID: from here on a failure still leaves the counter moved.
        let id = try allocateID(wanted: wanted)
        // 5. good_sigevent(), then 6. the clock's own timer_create.
        var notify: UInt8 = 0
        var signal = Sigevent.SIGALRM
        var sival = UInt64(UInt32(bitPattern: id))
        var target = processID
        if let sigevent {
            if let problem = validate(sigevent) { throw problem }
            notify = UInt8(truncatingIfNeeded: sigevent.notify)
            signal = sigevent.signal
            sival = sigevent.value
            if sigevent.notify == NotifyMode.SIGEV_THREAD_ID { target = sigevent.threadID }
        }
        if let problem = clockCreateError(c) { throw problem }
        // Success: the sigqueue and the ID stay taken.
        shared.pointee.sigpendingCount &+= 1
        st.pointee.timers.append(id: id, clock: clock.storedForm.rawValue, signal: signal, notify: notify,
                                 target: target, sival: sival, sequence: shared.pointee.nextSequence)
        shared.pointee.nextSequence &+= 1
        switch allocation {
        case .counter: break
        case .lowestFreePerProcess: st.pointee.denseIDs.markUsed(id)
        case .lowestFreeGlobal: shared.pointee.globalIDs.markUsed(id)
        }
        return id
    }

    /// posix_timer_add(): the wanted ID (EBUSY if live), or the allocator's.
    @inline(__always)
    private func allocateID(wanted: Int32) throws(KernelErrno) -> Int32 {
        let st = state
        switch allocation {
        case .counter:
            if wanted >= 0 {
                if st.pointee.timers.contains(wanted) { throw .EBUSY }   // counter untouched (measured)
                // The counter continues after the wanted ID, even downwards and
                // even if the create fails later (measured on 6.18).
                st.pointee.timerIDCounter = UInt32(bitPattern: wanted) &+ 1
                return wanted
            }
            // Fetch-and-increment masked with INT_MAX, at most INT_MAX+1 tries.
            var tries: UInt32 = 0
            repeat {
                let id = Int32(bitPattern: st.pointee.timerIDCounter & 0x7FFF_FFFF)
                st.pointee.timerIDCounter &+= 1
                if !st.pointee.timers.contains(id) { return id }
                tries &+= 1
            } while tries <= 0x7FFF_FFFF
            throw .EAGAIN
        case .lowestFreePerProcess:
            if wanted >= 0 {
                if st.pointee.timers.contains(wanted) { throw .EBUSY }
                return wanted
            }
            let table = st.pointee.timers
            guard let id = st.pointee.denseIDs.lowestFree(isLive: { table.contains($0) }) else { throw .EAGAIN }
            return id
        case .lowestFreeGlobal:
            guard let id = shared.pointee.globalIDs.lowestFree(isLive: { _ in false }) else { throw .EAGAIN }
            return id
        }
    }

    /// good_sigevent() (docs/kernel-facts.md section 5).
    @inline(__always)
    private func validate(_ sigevent: Sigevent) -> KernelErrno? {
        switch sigevent.notify {
        case NotifyMode.SIGEV_THREAD_ID:            // SIGEV_SIGNAL | SIGEV_THREAD_ID
            guard threadIDSet.contains(sigevent.threadID) else { return .EINVAL }
            fallthrough
        case 0, 2:                                  // SIGEV_SIGNAL, SIGEV_THREAD
            guard sigevent.signal >= 1 && sigevent.signal <= Sigevent.SIGRTMAX else { return .EINVAL }
            return nil
        case 1:                                     // SIGEV_NONE: nothing checked
            return nil
        default:
            return .EINVAL
        }
    }

    /// The clock's own timer_create (docs/kernel-facts.md section 4): CPU clocks must
    /// name a valid type and a usable pid/tid; alarm clocks need an RTC and
    /// CAP_WAKE_ALARM.
    @inline(__always)
    private func clockCreateError(_ c: Int32) -> KernelErrno? {
        if c == 8 || c == 9 {
            if !shared.pointee.hasRTC { return .EOPNOTSUPP }
            if !state.pointee.capabilities.contains(.wakeAlarm) { return .EPERM }
            return nil
        }
        guard c < 0 else { return nil }
        if c & 3 == 3 { return .EINVAL }            // CPUCLOCK_WHICH >= CPUCLOCK_MAX
        let pid = ~(c >> 3)
        if pid == 0 { return nil }                  // the caller
        if c & 4 != 0 {                             // per-thread: a thread of ours
            return threadIDSet.contains(pid) ? nil : .EINVAL
        }
        return kernel.isProcess(pid) ? nil : .EINVAL  // per-process: any process
    }

    // MARK: timer_delete and friends

    public func timerDelete(_ id: Int32) throws(KernelErrno) {
        let st = state
        if st.pointee.hasExited { throw .ESRCH }
        guard st.pointee.timers.remove(id) else { throw .EINVAL }
        shared.pointee.sigpendingCount &-= 1
        switch allocation {
        case .counter: break
        case .lowestFreePerProcess: st.pointee.denseIDs.markFree(id)
        case .lowestFreeGlobal: shared.pointee.globalIDs.markFree(id)
        }
    }

    @discardableResult
    public func timerSettime(_ id: Int32, absolute: Bool, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        if hasExited { throw .ESRCH }
        // timespec64_valid() on both values comes before the lookup (5b).
        guard value.valueNanoseconds >= 0, value.intervalNanoseconds >= 0 else { throw .EINVAL }
        let s = timers.slot(of: id)
        guard s >= 0 else { throw .EINVAL }
        let old = current(s)
        timers.overruns[s] = 0
        let sigevNone = timers.notifies[s] == 1
        if value.valueNanoseconds == 0 {
            // The interval is dropped. A SIGEV_NONE timer on an hrtimer clock
            // keeps its old expiry, and timer_gettime keeps counting down to
            // it (measured on 6.18: common_timer_get() computes the time left
            // of SIGEV_NONE timers even when disarmed); CPU timers clear it.
            // Before the rework, a CPU timer keeps the interval passed (measured
            // on 6.1: disarm with interval 7, gettime says `0 7`).
            let cpuClock = timers.clocks[s] < 0
            let kept = cpuClock && profile.cpuTimerDisarmKeepsInterval ? value.intervalNanoseconds : 0
            state.pointee.timers.disarm(s, keepExpiry: sigevNone && !cpuClock, keptInterval: kept)
            return old
        }
        let now = shared.pointee.now
        let expiry: Int64
        if absolute {
            expiry = value.valueNanoseconds
        } else {
            let (sum, overflow) = now.addingReportingOverflow(value.valueNanoseconds)
            expiry = overflow ? .max : sum
        }
        state.pointee.timers.arm(s, expiry: expiry, interval: value.intervalNanoseconds)
        if expiry <= now && !sigevNone { fire(s, now: now) }   // an absolute time already past
        return old
    }

    public func timerGettime(_ id: Int32) throws(KernelErrno) -> TimerValue {
        if hasExited { throw .ESRCH }
        let s = timers.slot(of: id)
        guard s >= 0 else { throw .EINVAL }
        return current(s)
    }

    public func timerGetoverrun(_ id: Int32) throws(KernelErrno) -> Int32 {
        if hasExited { throw .ESRCH }
        let s = timers.slot(of: id)
        guard s >= 0 else { throw .EINVAL }
        return timers.overruns[s]
    }

    /// Time left (relative) and interval; zeros when disarmed.
    private func current(_ s: Int) -> TimerValue {
        var expiry = timers.expiries[s]
        guard expiry != 0 else { return TimerValue(valueNanoseconds: 0, intervalNanoseconds: timers.intervals[s]) }
        let now = shared.pointee.now
        let interval = timers.intervals[s]
        if timers.notifies[s] == 1 {
            // SIGEV_NONE: never fires; an interval timer is moved forward
            // when read (timer_forward), a one-shot one reads 0 once past.
            if interval > 0 && expiry <= now {
                let steps = (now - expiry) / interval + 1
                let (step, o1) = steps.multipliedReportingOverflow(by: interval)
                let (next, o2) = expiry.addingReportingOverflow(step)
                expiry = (o1 || o2) ? .max : next
                timers.expiries[s] = expiry
            }
            return TimerValue(valueNanoseconds: expiry > now ? expiry - now : 0, intervalNanoseconds: interval)
        }
        return TimerValue(valueNanoseconds: expiry - now, intervalNanoseconds: interval)
    }

    // MARK: Restore interfaces

    @discardableResult
    public func prctlRestoreIDs(_ op: RestoreIDsOperation) throws(KernelErrno) -> Int32 {
        if hasExited { throw .ESRCH }
        // Unknown prctl option before 6.15 (and on profiles without it): EINVAL.
        guard profile.restoreInterfaces.contains(.createAtID) else { throw .EINVAL }
        switch op {
        case .off: state.pointee.restoreIDsMode = false; return 0
        case .on: state.pointee.restoreIDsMode = true; return 0
        case .get: return state.pointee.restoreIDsMode ? 1 : 0
        }
    }

    /// The proposed cursor sysctl: like ns_last_pid, the capability check
    /// comes before the value is parsed.
    public func writeTimerIDCursor(_ id: Int32) throws(KernelErrno) {
        if hasExited { throw .ESRCH }
        guard profile.restoreInterfaces.contains(.cursor) else { throw .ENOENT }
        guard capabilities.contains(.checkpointRestore) else { throw .EPERM }
        guard id >= 0 else { throw .EINVAL }
        state.pointee.timerIDCounter = UInt32(bitPattern: id)
    }

    // MARK: /proc, overruns, time

    public func readProcTimers() throws -> [UInt8] {
        if hasExited { throw KernelErrno.ESRCH }
        var out: [UInt8] = []
        out.reserveCapacity(timers.count * 72)
        for s in timers.slotsNewestFirst() {
            ProcTimersRenderer.append(procTimer(at: s), to: &out)
        }
        return out
    }

    /// The live timers as /proc shows them, newest first.
    public func procTimers() -> [ProcTimer] {
        timers.slotsNewestFirst().map(procTimer(at:))
    }

    private func procTimer(at s: Int) -> ProcTimer {
        let raw = Int32(timers.notifies[s])
        return ProcTimer(id: timers.ids[s], signal: timers.signals[s], sigevValue: timers.sivals[s],
                         notify: NotifyMode(sigevNotify: raw) ?? .signal, notifyTarget: timers.targets[s],
                         clockID: ClockID(timers.clocks[s]))
    }

    /// The model can (unlike any real kernel, docs/kernel-facts.md section 6).
    public func restoreOverrun(_ id: Int32, count: Int32) -> Bool {
        let s = timers.slot(of: id)
        guard !hasExited, s >= 0 else { return false }
        timers.overruns[s] = count
        return true
    }

    public func advanceTime(byNanoseconds nanoseconds: Int64) {
        kernel.advanceTime(byNanoseconds: nanoseconds)
    }

    func fireExpiredTimers(now: Int64) {
        guard timers.armedCount > 0 else { return }
        for s in 0..<timers.count {
            let expiry = timers.expiries[s]
            if expiry != 0 && expiry <= now && timers.notifies[s] != 1 { fire(s, now: now) }
        }
    }

    /// One delivered expiry; the ones missed beyond it are the overrun.
    private func fire(_ s: Int, now: Int64) {
        let expiry = timers.expiries[s]
        let interval = timers.intervals[s]
        state.pointee.expiriesDelivered += 1
        guard interval > 0 else {
            timers.overruns[s] = 0
            state.pointee.timers.disarm(s)
            return
        }
        let missed = (now - expiry) / interval
        timers.overruns[s] = Int32(clamping: missed)
        let (step, o1) = (missed + 1).multipliedReportingOverflow(by: interval)
        let (next, o2) = expiry.addingReportingOverflow(step)
        timers.expiries[s] = (o1 || o2) ? .max : next
    }

    func releaseAllTimers() {
        let table = timers
        shared.pointee.sigpendingCount -= table.count
        for s in 0..<table.count {
            switch allocation {
            case .counter: break
            case .lowestFreePerProcess: state.pointee.denseIDs.markFree(table.ids[s])
            case .lowestFreeGlobal: shared.pointee.globalIDs.markFree(table.ids[s])
            }
        }
        state.pointee.timers.removeAll()
    }
}
