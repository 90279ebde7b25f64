/// The three ways of creating a plan's timers at their IDs, each written once
/// for any `TimerKernel`. On failure they leave what they created (the caller
/// reports exactly which timers exist by reading /proc).
public enum TimerCreation {
    /// Creates every timer of `plan` on `kernel` with `strategy` (not `.auto`).
    @inlinable
    public static func create<K: TimerKernel>(_ plan: RestorePlan, on kernel: K, strategy: RestoreStrategy,
                                             control: RestoreControl = .none) throws(RestoreFailure) {
        switch strategy {
        case .dance: try dance(plan, on: kernel, control: control)
        case .cursor: try cursor(plan, on: kernel, control: control)
        case .createAtID: try createAtID(plan, on: kernel, control: control)
        case .auto: try create(plan, on: kernel, strategy: .cheapest(offered: kernel.restoreInterfaces), control: control)
        }
    }

    /// CRIU's create/delete dance (docs/kernel-facts.md section 3.1): in a fresh process,
    /// for the wanted IDs in ascending order, create timers with the wanted
    /// clock and sigevent and delete every unwanted one until the wanted ID
    /// comes up. Each new ID must be the previous one + 1: kernels that reuse
    /// IDs (linux-2.6, rfd-dense) would otherwise loop forever. At most
    /// INT_MAX + 1 creates, since every step must advance the expected ID.
    @inlinable
    public static func dance<K: TimerKernel>(_ plan: RestorePlan, on kernel: K,
                                            control: RestoreControl = .none) throws(RestoreFailure) {
        let total = Int64(plan.timers.last?.id ?? 0) + 1
        var expected: Int32 = control.counterStart  // a fresh process's counter starts at 0
        var steps: Int64 = 0
        for timer in plan.timers {
            while true {
                steps &+= 1
                if steps & control.progressMask == 0 {
                    control.progress?(Int64(expected), total)
                    if control.isCancelled?() == true {
                        throw RestoreFailure(.interrupted, "interrupted while dancing to ID \(timer.id) (at ID \(expected))")
                    }
                }
                let id: Int32
                do {
                    id = try kernel.timerCreate(clock: timer.clock, sigevent: timer.sigevent, idBuffer: 0)
                } catch {
                    let failure = SyscallError("timer_create", timerID: timer.id, errno: error,
                                               reason: TimerCreation.createReason(error, clock: timer.clock))
                    throw RestoreFailure(.syscallFailed, "dance to ID \(timer.id): \(failure) (after \(expected) IDs)",
                                         syscallError: failure)
                }
                if id == timer.id { break }
                if id != expected || id > timer.id {
                    try? kernel.timerDelete(id)
                    throw RestoreFailure(.idsNotConsecutive,
                        "dance to ID \(timer.id): timer_create returned ID \(id) where \(expected) was next: "
                        + "the kernel does not give IDs consecutively (it reuses freed IDs or the process is not fresh)")
                }
                do { try kernel.timerDelete(id) } catch {
                    let failure = SyscallError("timer_delete", timerID: id, errno: error)
                    throw RestoreFailure(.syscallFailed, "dance to ID \(timer.id): \(failure)", syscallError: failure)
                }
                expected = id &+ 1
            }
            expected = timer.id &+ 1
        }
        control.progress?(total, total)
    }

    /// The proposed cursor sysctl (docs/kernel-facts.md section 3.2): set where the
    /// counter continues, create, and check the ID (another thread may have
    /// created a timer in between). A create leaves the counter at its ID + 1,
    /// so consecutive IDs need the sysctl once, not once per timer; the first
    /// write is always made (it is also what tells a kernel without the
    /// cursor apart, and the process's counter is not assumed).
    @inlinable
    public static func cursor<K: TimerKernel>(_ plan: RestorePlan, on kernel: K,
                                             control: RestoreControl = .none) throws(RestoreFailure) {
        var counter: Int32? = nil  // where the kernel's counter points, once known
        for timer in plan.timers {
            if control.isCancelled?() == true {
                throw RestoreFailure(.interrupted, "interrupted before ID \(timer.id)")
            }
            if counter != timer.id {
                do {
                    try kernel.writeTimerIDCursor(timer.id)
                } catch {
                    switch error {
                    case .ENOENT:
                        throw RestoreFailure(.strategyUnsupported,
                            "\(kernel.kernelName) has no timer ID cursor sysctl (it was proposed in 2023 and never merged)",
                            syscallError: SyscallError("write(timer_id_cursor)", timerID: timer.id, errno: error))
                    case .EPERM:
                        throw RestoreFailure(.syscallFailed,
                            "write(timer_id_cursor)(id=\(timer.id)): EPERM: the cursor needs CAP_CHECKPOINT_RESTORE",
                            syscallError: SyscallError("write(timer_id_cursor)", timerID: timer.id, errno: error))
                    default:
                        let failure = SyscallError("write(timer_id_cursor)", timerID: timer.id, errno: error)
                        throw RestoreFailure(.syscallFailed, failure.description, syscallError: failure)
                    }
                }
            }
            let id = try createOne(timer, on: kernel, idBuffer: 0)
            if id != timer.id {
                try? kernel.timerDelete(id)
                throw RestoreFailure(.idStolen,
                    "cursor set to \(timer.id) but timer_create returned ID \(id): ID \(timer.id) was taken in between")
            }
            // INT_MAX: the counter wraps (docs/kernel-facts.md 3), so the next ID is written again.
            counter = id == .max ? nil : id + 1
        }
    }

    /// Create at the wanted ID (docs/kernel-facts.md section 3.3, Linux 6.15+): prctl
    /// ON, one create per timer reading the ID from the buffer, prctl OFF
    /// (also on failure: the mode would otherwise stay on in the process).
    @inlinable
    public static func createAtID<K: TimerKernel>(_ plan: RestorePlan, on kernel: K,
                                                 control: RestoreControl = .none) throws(RestoreFailure) {
        // Nothing to create: no mode to switch on and off (2 prctl calls saved).
        guard !plan.timers.isEmpty else { return }
        do {
            try kernel.prctlRestoreIDs(.on)
        } catch {
            if error == .EINVAL {
                throw RestoreFailure(.strategyUnsupported,
                    "\(kernel.kernelName) has no create-at-ID: prctl(PR_TIMER_CREATE_RESTORE_IDS, ON): EINVAL (needs Linux 6.15+)",
                    syscallError: SyscallError("prctl(PR_TIMER_CREATE_RESTORE_IDS)", errno: error))
            }
            let failure = SyscallError("prctl(PR_TIMER_CREATE_RESTORE_IDS)", errno: error)
            throw RestoreFailure(.syscallFailed, failure.description, syscallError: failure)
        }
        if control.isCancelled?() == true {
            _ = try? kernel.prctlRestoreIDs(.off)
            throw RestoreFailure(.interrupted, "interrupted before ID \(plan.timers.first?.id ?? 0)")
        }
        // All creates as one batch, prctl OFF after them in any case (the mode
        // would otherwise stay on in the process): one stop of a live target.
        let calls = plan.timers.map { KernelCall.timerCreate(clock: $0.clock, sigevent: $0.sigevent, idBuffer: $0.id) }
        let done = kernel.perform(calls, stopOnError: true, finally: [.prctlRestoreIDs(.off)])
        for (timer, result) in zip(plan.timers, done.results) {
            switch result {
            case .value(let value):
                let id = Int32(truncatingIfNeeded: value)
                if id != timer.id {
                    try? kernel.timerDelete(id)
                    throw RestoreFailure(.idStolen, "timer_create(id=\(timer.id)) returned ID \(id)")
                }
            case .failed(let error):
                let failure = SyscallError("timer_create", timerID: timer.id, errno: error,
                                           reason: createReason(error, clock: timer.clock))
                throw RestoreFailure(.syscallFailed, failure.description, syscallError: failure)
            case .notRun, .time:
                throw RestoreFailure(.syscallFailed, "timer_create(id=\(timer.id)) was not made")
            }
        }
    }

    @inlinable
    static func createOne<K: TimerKernel>(_ timer: PlannedTimer, on kernel: K, idBuffer: Int32) throws(RestoreFailure) -> Int32 {
        do {
            return try kernel.timerCreate(clock: timer.clock, sigevent: timer.sigevent, idBuffer: idBuffer)
        } catch {
            let failure = SyscallError("timer_create", timerID: timer.id, errno: error,
                                       reason: createReason(error, clock: timer.clock))
            throw RestoreFailure(.syscallFailed, failure.description, syscallError: failure)
        }
    }

    /// What a timer_create errno means (docs/kernel-facts.md sections 2, 3, 5).
    @usableFromInline
    static func createReason(_ error: KernelErrno, clock: ClockID) -> String {
        switch error {
        case .EBUSY: return "ID already in use"
        case .EAGAIN: return "no timer ID or signal queue entry left (RLIMIT_SIGPENDING reached?)"
        case .EOPNOTSUPP:
            if clock == .realtimeAlarm || clock == .boottimeAlarm { return "alarm clock without an RTC" }
            return "clock \(clock.name) has no timers"
        case .EPERM: return "operation not permitted (alarm clocks need CAP_WAKE_ALARM)"
        case .EINVAL: return "invalid argument (clock, signal, notify or notify thread refused)"
        default: return error.message
        }
    }
}
