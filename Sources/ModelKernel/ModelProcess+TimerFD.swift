import TimerCore

/// One open timerfd file of the model (shared by the fds dup'ed from it).
final class ModelTimerFile {
    let clock: ClockID
    /// O_NONBLOCK as the file's status flag.
    var statusFlags: UInt32
    var settimeFlags: UInt32 = 0
    /// Expiry on the model's `now` axis; nil = disarmed.
    var expiry: Int64?
    var interval: Int64 = 0
    var ticks: UInt64 = 0
    /// The hrtimer fired and was not forwarded since (fs/timerfd.c `expired`).
    var expired = false

    init(clock: ClockID, statusFlags: UInt32) {
        self.clock = clock
        self.statusFlags = statusFlags
    }

    /// The hrtimer firing, as it happens on the real kernel when time passes:
    /// one tick, not re-armed (timerfd_tmrproc).
    func fireIfDue(now: Int64) {
        if let expiry, !expired, expiry <= now {
            ticks += 1
            expired = true
        }
    }

    /// What read() and timerfd_gettime() do first: forward a periodic timer
    /// past `now`, adding the missed expirations (hrtimer_forward_now).
    func forward(now: Int64) {
        fireIfDue(now: now)
        guard expired, interval > 0, let e = expiry else { return }
        let missed = (now - e) / interval + 1
        ticks += UInt64(missed - 1)
        expiry = e + missed * interval
        expired = false
    }

    func remaining(now: Int64) -> Int64 {
        guard let expiry else { return 0 }
        return max(0, expiry - now)
    }
}

/// A model process's fd table and interval timers.
struct ModelFiles {
    /// Open fds: the timerfd file behind it (nil for 0, 1, 2: the terminal)
    /// and FD_CLOEXEC.
    var table: [Int32: (file: ModelTimerFile?, closeOnExec: Bool)] = [0: (nil, false), 1: (nil, false), 2: (nil, false)]
    /// RLIMIT_NOFILE: as if raised to the default nr_open (1,048,576).
    static let fdLimit: Int32 = 1 << 20
    /// The one fd flag F_GETFD reports (include/uapi/asm-generic/fcntl.h).
    static let FD_CLOEXEC: Int32 = 1

    /// The dense allocator: the lowest free number (fs/file.c alloc_fd).
    func lowestFree() -> Int32? {
        var fd: Int32 = 0
        while table[fd] != nil { fd += 1 }
        return fd < Self.fdLimit ? fd : nil
    }

    /// ITIMER_REAL, VIRTUAL, PROF: expiry on `now` (a model process is always
    /// running, so its CPU time is `now` too) and interval; nil = disarmed.
    var itimers: [(expiry: Int64?, interval: Int64)] = Array(repeating: (nil, 0), count: 3)
}

/// timerfds and itimers on the model, with the real kernel's errnos in its
/// order of checks (fs/timerfd.c, fs/file.c, kernel/time/itimer.c).
extension ModelProcess: TimerFDKernel {
    var now: Int64 { shared.pointee.now }

    /// The model's clock reading for `clock` (monotonic = boottime = `now`).
    public func clockNow(_ clock: ClockID) -> Int64 {
        clock == .realtime || clock == .realtimeAlarm || clock == .tai ? kernel.realtime : now
    }

    /// Where an absolute time on `clock` falls on the `now` axis.
    func nowAxis(_ absolute: Int64, clock: ClockID) -> Int64 { absolute &- (clockNow(clock) &- now) }

    func timerFile(_ fd: Int32) throws(KernelErrno) -> ModelTimerFile {
        guard let entry = state.pointee.files.table[fd] else { throw .EBADF }
        guard let file = entry.file else { throw .EINVAL }     // not a timerfd
        return file
    }

    public func timerfdCreate(clock: ClockID, flags: UInt32) throws(KernelErrno) -> Int32 {
        if hasExited { throw .ESRCH }
        let known = CheckpointTimerFD.O_NONBLOCK | CheckpointTimerFD.O_CLOEXEC
        // 1. Flags and clock together (EINVAL); BOOTTIME and the alarm clocks
        //    came in 3.15 and 3.11, after linux-2.6's range.
        let clockAccepted = profile == .linux26 ? clock == .realtime || clock == .monotonic
            : CheckpointTimerFD.clockRefusal(clock) == nil
        if flags & ~known != 0 || !clockAccepted { throw .EINVAL }
        // 2. Alarm clocks need CAP_WAKE_ALARM.
        if (clock == .realtimeAlarm || clock == .boottimeAlarm) && !capabilities.contains(.wakeAlarm) { throw .EPERM }
        // 3. The lowest free fd.
        guard let fd = state.pointee.files.lowestFree() else { throw .EMFILE }
        let file = ModelTimerFile(clock: clock, statusFlags: flags & CheckpointTimerFD.O_NONBLOCK)
        state.pointee.files.table[fd] = (file, flags & CheckpointTimerFD.O_CLOEXEC != 0)
        return fd
    }

    public func dup3(_ fd: Int32, to target: Int32, closeOnExec: Bool) throws(KernelErrno) {
        if hasExited { throw .ESRCH }
        // ksys_dup3: the same fd (EINVAL for dup3), the limit, then the old fd.
        if fd == target && closeOnExec { throw .EINVAL }
        if target < 0 || target >= ModelFiles.fdLimit { throw .EBADF }
        guard let entry = state.pointee.files.table[fd] else { throw .EBADF }
        if fd == target { return }                              // dup2(fd, fd)
        // An open target is closed silently, as the kernel does.
        state.pointee.files.table[target] = (entry.file, closeOnExec)
    }

    public func close(_ fd: Int32) throws(KernelErrno) {
        guard state.pointee.files.table.removeValue(forKey: fd) != nil else { throw .EBADF }
    }

    /// FD_CLOEXEC as the table keeps it per fd (not per file: a dup has its own).
    public func fdFlags(_ fd: Int32) throws(KernelErrno) -> Int32 {
        guard let entry = state.pointee.files.table[fd] else { throw .EBADF }
        return entry.closeOnExec ? ModelFiles.FD_CLOEXEC : 0
    }

    /// Fixed at the default nr_open, soft and hard.
    public func fdLimit() throws(KernelErrno) -> FDLimit {
        FDLimit(soft: UInt64(ModelFiles.fdLimit), hard: UInt64(ModelFiles.fdLimit))
    }

    /// Only the limit it has (the model's table does not move its limit).
    public func setFDLimit(_ limit: FDLimit) throws(KernelErrno) {
        if limit != (try fdLimit()) { throw .EPERM }
    }

    @discardableResult
    public func timerfdSettime(_ fd: Int32, flags: UInt32, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        // do_timerfd_settime: flags and the itimerspec, then the fd.
        if flags & ~TimerFDInfoParser.knownSettimeFlags != 0 || value.valueNanoseconds < 0
            || value.intervalNanoseconds < 0 { throw .EINVAL }
        let file = try timerFile(fd)
        if (file.clock == .realtimeAlarm || file.clock == .boottimeAlarm) && !capabilities.contains(.wakeAlarm) {
            throw .EPERM
        }
        let old = current(file)
        // timerfd_setup: ticks and expired cleared, flags kept, then armed.
        file.ticks = 0
        file.expired = false
        file.settimeFlags = flags
        file.interval = value.intervalNanoseconds
        if value.isArmed {
            let absolute = flags & CheckpointTimerFD.TFD_TIMER_ABSTIME != 0
            file.expiry = absolute ? nowAxis(value.valueNanoseconds, clock: file.clock) : now &+ value.valueNanoseconds
            file.fireIfDue(now: now)                            // a time already past fires at once
        } else {
            file.expiry = nil
        }
        return old
    }

    func current(_ file: ModelTimerFile) -> TimerValue {
        file.forward(now: now)
        return TimerValue(valueNanoseconds: file.remaining(now: now), intervalNanoseconds: file.interval)
    }

    public func timerfdGettime(_ fd: Int32) throws(KernelErrno) -> TimerValue { current(try timerFile(fd)) }

    public func timerfdSetTicks(_ fd: Int32, _ ticks: UInt64) throws(KernelErrno) {
        // linux-2.6 predates the ioctl (3.17): timerfd has no unlocked_ioctl.
        if profile == .linux26 { throw .ENOTTY }
        let file = try timerFile(fd)
        if ticks == 0 { throw .EINVAL }
        file.ticks = ticks
    }

    /// TICK_NSEC at CONFIG_HZ=250, added to a CPU itimer's value by setitimer.
    static let tickNanoseconds: Int64 = 4_000_000

    @discardableResult
    public func setitimer(_ which: CheckpointITimers.Which, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        if hasExited { throw .ESRCH }
        if value.valueNanoseconds < 0 || value.intervalNanoseconds < 0 { throw .EINVAL }
        let old = try getitimer(which)
        // struct itimerval holds microseconds.
        let microsecond: Int64 = 1000
        var nanoseconds = value.valueNanoseconds / microsecond * microsecond
        let interval = value.intervalNanoseconds / microsecond * microsecond
        if which != .real && nanoseconds > 0 { nanoseconds += Self.tickNanoseconds }   // set_cpu_itimer
        state.pointee.files.itimers[Int(which.rawValue)] = (nanoseconds > 0 ? now &+ nanoseconds : nil, interval)
        return old
    }

    public func getitimer(_ which: CheckpointITimers.Which) throws(KernelErrno) -> TimerValue {
        if hasExited { throw .ESRCH }
        var timer = state.pointee.files.itimers[Int(which.rawValue)]
        if let e = timer.expiry, e <= now {
            // Expired: a periodic one was re-armed at each expiry, a one-shot is off.
            if timer.interval > 0 {
                timer.expiry = e + ((now - e) / timer.interval + 1) * timer.interval
            } else {
                timer.expiry = nil
            }
            state.pointee.files.itimers[Int(which.rawValue)] = timer
        }
        let left = timer.expiry.map { $0 - now } ?? 0
        return TimerValue(valueNanoseconds: left / 1000 * 1000, intervalNanoseconds: timer.interval)
    }

    /// /proc/PID/fdinfo/FD rendered as Linux 6.18 prints it (with 3.17's
    /// timerfd lines on every profile, so a restore can be verified).
    public func readFDInfo(_ fd: Int32) throws -> [UInt8] {
        guard let entry = state.pointee.files.table[fd], let file = entry.file else {
            throw KernelErrno.ENOENT
        }
        file.fireIfDue(now: now)     // fdinfo does not forward
        let flags = CheckpointTimerFD.O_ACCMODE & 2 | file.statusFlags | (entry.closeOnExec ? CheckpointTimerFD.O_CLOEXEC : 0)
        return TimerFDInfoRenderer.render(TimerFDInfo(
            fileFlags: flags, mountID: 15, inode: 1039, clockID: file.clock, ticks: file.ticks,
            settimeFlags: file.settimeFlags, valueNanoseconds: file.remaining(now: now),
            intervalNanoseconds: file.interval))
    }
}
