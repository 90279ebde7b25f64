/// What to do with a thread_id timer whose target thread had exited at dump time.
public enum DeadThreadNotifyPolicy: String, Sendable, CaseIterable {
    /// Restore it as SIGEV_NONE (it could never fire at its thread anyway) and warn.
    case none
    /// Refuse the restore.
    case fail
}

/// One timer as it will be created: the checkpoint's timer with its pids and
/// tids mapped onto the restored process, and what /proc must show afterwards.
public struct PlannedTimer: Hashable, Sendable {
    public var id: Int32
    /// The clock passed to timer_create (CPU clocks rewritten to new pids/tids).
    public var clock: ClockID
    public var sigevent: Sigevent
    /// The arming to apply after all timers exist; nil = leave disarmed.
    public var arming: TimerValue?
    /// The dumped overrun count, if any.
    public var overrun: Int32?
    /// What /proc/PID/timers must show for this timer after the restore.
    public var expected: ProcTimer
}

/// The refusal of a checkpoint for this particular restore (before any syscall).
public struct RestorePlanError: Error, Equatable, Sendable, CustomStringConvertible {
    public var timerID: Int32
    public var problem: String
    public var description: String { "timer \(timerID): \(problem)" }
}

/// The checkpoint mapped onto a process: pids, tids and clocks rewritten.
public struct RestorePlan: Sendable {
    /// Ascending by ID: the order every strategy creates them in.
    public var timers: [PlannedTimer]
    /// Things changed to make the restore possible (e.g. dead notify threads).
    public var warnings: [String]

    /// Extra threads (besides the main one) the restored process needs: one per
    /// distinct live thread_id target other than the main thread, and one per
    /// other checkpoint thread whose CPU clock a timer counts.
    public static func requiredExtraThreads(for checkpoint: Checkpoint) -> Int {
        notifyThreads(of: checkpoint).count
    }

    /// The checkpoint's non-main threads the restore recreates, in the order
    /// their new threads are assigned (checkpoint thread order, then tid):
    /// thread_id targets, and threads of the checkpoint named by a per-thread
    /// CPU clock (docs/kernel-facts.md section 4: such a clock names a tid, which must
    /// be a thread of the restored process).
    public static func notifyThreads(of checkpoint: Checkpoint) -> [Int32] {
        var targets = Set<Int32>()
        for timer in checkpoint.timers where timer.notify == .threadID && !timer.notifyTargetExited
            && timer.notifyTarget != checkpoint.pid {
            targets.insert(timer.notifyTarget)
        }
        let threads = Set(checkpoint.threads)
        for timer in checkpoint.timers {
            if let tid = timer.clockID.cpuClockPID, tid != 0, tid != checkpoint.pid, threads.contains(tid) {
                targets.insert(tid)
            }
        }
        let ordered = checkpoint.threads.filter { targets.contains($0) }
        return ordered + targets.subtracting(ordered).sorted()
    }

    /// Maps `checkpoint` onto a process `processID` whose threads are
    /// `threadIDs` (main first, then at least `requiredExtraThreads` more).
    /// `otherPIDs` maps pids of other restored processes (process trees).
    public init(checkpoint: Checkpoint, processID: Int32, threadIDs: [Int32],
                deadThreadNotify: DeadThreadNotifyPolicy = .none,
                otherPIDs: [Int32: Int32] = [:]) throws(RestorePlanError) {
        var pidMap = otherPIDs
        pidMap[checkpoint.pid] = processID
        let notifyThreads = Self.notifyThreads(of: checkpoint)
        for (index, tid) in notifyThreads.enumerated() where index + 1 < threadIDs.count {
            pidMap[tid] = threadIDs[index + 1]
        }
        var warnings: [String] = []
        var timers: [PlannedTimer] = []
        timers.reserveCapacity(checkpoint.timers.count)
        for timer in checkpoint.timers.sorted(by: { $0.id < $1.id }) {
            var notify = timer.notify
            var target = processID
            if timer.notify == .threadID {
                if !timer.notifyTargetExited, let mapped = pidMap[timer.notifyTarget] {
                    target = mapped
                } else {
                    switch deadThreadNotify {
                    case .fail:
                        throw RestorePlanError(timerID: timer.id, problem:
                            "notify thread \(timer.notifyTarget) no longer exists (use --dead-thread-notify none to restore it as SIGEV_NONE)")
                    case .none:
                        notify = .none
                        warnings.append("timer \(timer.id): notify thread \(timer.notifyTarget) had exited; restored as SIGEV_NONE")
                    }
                }
            }
            var clock = timer.clockID
            if let named = clock.cpuClockPID, named != 0 {
                // A CPU clock of a named pid/tid: only restorable if that task is restored too.
                guard let mapped = pidMap[named] else {
                    throw RestorePlanError(timerID: timer.id, problem:
                        "clock \(clock.name) (\(clock.rawValue)) counts task \(named), which is not part of this restore")
                }
                clock = clock.withCPUClockPID(mapped)
            }
            let sigevent = Sigevent(notify, signal: timer.signal, value: timer.sigevValue,
                                    threadID: notify == .threadID ? target : 0)
            var arming: TimerValue?
            if let value = timer.valueNanoseconds, let interval = timer.intervalNanoseconds, value != 0 || interval != 0 {
                // CRIU arms a periodic timer whose dumped value is 0 with its interval (docs/kernel-facts.md section 6).
                arming = TimerValue(valueNanoseconds: value != 0 ? value : interval, intervalNanoseconds: interval)
            }
            let expected = ProcTimer(id: timer.id, signal: timer.signal, sigevValue: timer.sigevValue,
                                     notify: notify, notifyTarget: target, clockID: clock.storedForm)
            timers.append(PlannedTimer(id: timer.id, clock: clock, sigevent: sigevent, arming: arming,
                                       overrun: timer.overrun, expected: expected))
        }
        self.timers = timers
        self.warnings = warnings
    }
}
