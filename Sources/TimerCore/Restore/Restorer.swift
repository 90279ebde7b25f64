/// Restores a checkpoint into one process of any `TimerKernel`: plan, create
/// the timers by a strategy, arm them, set overruns, then verify through the
/// process's own /proc/PID/timers read back with the dump parser.
public enum Restorer {
    public struct Options {
        public var strategy: RestoreStrategy
        public var deadThreadNotify: DeadThreadNotifyPolicy
        /// Pids of other processes restored alongside (process trees).
        public var otherPIDs: [Int32: Int32]
        public var control: RestoreControl
        /// The process is not fresh (restore --into): timers it has besides
        /// the checkpoint's are its own, listed in the report, not a mismatch.
        public var othersAllowed = false

        public init(strategy: RestoreStrategy = .auto, deadThreadNotify: DeadThreadNotifyPolicy = .none,
                    otherPIDs: [Int32: Int32] = [:], control: RestoreControl = .none) {
            self.strategy = strategy
            self.deadThreadNotify = deadThreadNotify
            self.otherPIDs = otherPIDs
            self.control = control
        }
    }

    /// Restores `checkpoint` into the process behind `kernel`, which must have
    /// at least `RestorePlan.requiredExtraThreads(for:)` extra threads.
    public static func restore<K: TimerKernel>(_ checkpoint: Checkpoint, into kernel: K,
                                               options: Options = Options()) -> RestoreReport {
        let clock = MonotonicClock()
        let counting = CountingKernel(kernel)
        let strategy = options.strategy.resolved(offered: kernel.restoreInterfaces)
        var report = RestoreReport(kernel: kernel.kernelName, strategy: strategy, requestedStrategy: options.strategy,
                                   processID: kernel.processID, threadIDs: kernel.threadIDs)
        // The checkpoint's own warnings (written by dump) first, even when the
        // plan is refused, then what this restore changed.
        report.warnings = checkpoint.warnings
        report.valuesNotDumped = Set(checkpoint.timers.lazy.filter { $0.valueNanoseconds == nil }.map(\.id))
        if !report.valuesNotDumped.isEmpty {
            let all = report.valuesNotDumped.count == checkpoint.timers.count
            report.notes.append("\(all ? "the checkpoint holds no timer values" : "\(report.valuesNotDumped.count) timer(s) have no values in the checkpoint")"
                + " (dumped without --values): \(all ? "every timer is" : "they are") restored disarmed")
        }
        let plan: RestorePlan
        do {
            plan = try RestorePlan(checkpoint: checkpoint, processID: kernel.processID, threadIDs: kernel.threadIDs,
                                   deadThreadNotify: options.deadThreadNotify, otherPIDs: options.otherPIDs)
        } catch {
            report.error = RestoreFailure(.planRefused, error.description)
            report.wallNanoseconds = clock.elapsed
            return report
        }
        report.warnings += plan.warnings
        // The timerfds and itimers, when the checkpoint has any, on a kernel with them.
        let hasOthers = hasOtherTimers(checkpoint)
        let fdKernel = hasOthers ? counting as? any TimerFDKernel : nil
        do {
            try TimerCreation.create(plan, on: counting, strategy: strategy, control: options.control)
            try arm(plan, on: counting, report: &report)
            if hasOthers { try restoreOtherTimers(checkpoint, on: counting, report: &report) }
        } catch {
            report.error = stolenIDFailure(error, strategy: strategy) ?? error
        }
        report.syscalls = counting.counts
        if fdKernel != nil { report.timerFDSyscalls = counting.timerFDCounts }
        // Read back whatever exists, also after a failure: the report says exactly which timers are there.
        do {
            // /proc/PID/timers is read a page per read(): if another thread of
            // the process creates timers meanwhile, a timer can show up twice
            // (the kernel prepends to the list). Read again, up to 3 times.
            var shown = try ProcTimersParser.parse(try kernel.readProcTimers())
            for _ in 0..<2 where Set(shown.map(\.id)).count != shown.count {
                shown = try ProcTimersParser.parse(try kernel.readProcTimers())
            }
            var listed = Set<Int32>()
            report.timers = CheckpointTimer.readBack(shown.sorted { $0.id < $1.id }.filter { listed.insert($0.id).inserted },
                                                     in: kernel)
            if report.error == nil {
                let verification = Verification(plan: plan, shown: shown, othersAllowed: options.othersAllowed)
                report.differences = verification.differences
                if !verification.others.isEmpty {
                    report.notes.append("\(verification.others.count) timer(s) of the process itself, left alone: IDs "
                        + verification.others.prefix(10).map(String.init).joined(separator: ", ")
                        + (verification.others.count > 10 ? ", ..." : ""))
                }
                if let fdKernel {
                    let others = TimerFDRestore.verify(checkpoint, on: fdKernel, report: &report)
                    report.differences += others
                    if !others.isEmpty && verification.matches {
                        report.error = RestoreFailure(.verificationFailed,
                            "the timerfds or itimers read back do not match the checkpoint: "
                            + others.prefix(3).joined(separator: "; ")
                            + (others.count > 3 ? "; and \(others.count - 3) more" : ""))
                    }
                }
                if !verification.matches {
                    report.error = RestoreFailure(.verificationFailed,
                        "/proc/\(kernel.processID)/timers does not match the checkpoint: "
                        + verification.differences.prefix(3).joined(separator: "; ")
                        + (verification.differences.count > 3 ? "; and \(verification.differences.count - 3) more" : ""))
                }
            }
        } catch {
            if report.error == nil {
                report.error = RestoreFailure(.verificationFailed, "reading /proc/\(kernel.processID)/timers back: \(error)")
            }
        }
        report.wallNanoseconds = clock.elapsed
        return report
    }

    static func hasOtherTimers(_ checkpoint: Checkpoint) -> Bool {
        !(checkpoint.timerFDs ?? []).isEmpty || checkpoint.itimers != nil
    }

    /// The timerfds and itimers, on a kernel that has them (every kernel
    /// here does; one without would say so in the report).
    static func restoreOtherTimers<K: TimerKernel>(_ checkpoint: Checkpoint, on kernel: K,
                                                   report: inout RestoreReport) throws(RestoreFailure) {
        guard let fdKernel = kernel as? any TimerFDKernel else {
            report.notes.append("timerfds and itimers not restored: \(kernel.kernelName) has no timerfd interface here")
            return
        }
        try TimerFDRestore.restore(checkpoint, on: fdKernel, report: &report)
    }

    /// In create-at-ID mode the restored process starts with no timers and
    /// the plan has no duplicate IDs, so an EBUSY means another thread of the
    /// process took the wanted ID while the mode was on (docs/kernel-facts.md section 3:
    /// the mode is per process, every thread's create reads its ID buffer).
    static func stolenIDFailure(_ error: RestoreFailure, strategy: RestoreStrategy) -> RestoreFailure? {
        guard strategy == .createAtID, error.code == .syscallFailed, let syscall = error.syscallError,
              syscall.syscall == "timer_create", syscall.errno == .EBUSY, let id = syscall.timerID else { return nil }
        return RestoreFailure(.idStolen,
            "\(syscall): ID \(id) was stolen: another thread of the process created a timer at it during the restore",
            syscallError: syscall)
    }

    /// Arms timers after all exist (as CRIU does) and restores overruns where
    /// the kernel can (only the model: docs/kernel-facts.md section 6).
    static func arm<K: TimerKernel>(_ plan: RestorePlan, on kernel: K, report: inout RestoreReport) throws(RestoreFailure) {
        var overrunsLost: [Int32] = []
        let armed = plan.timers.filter { $0.arming != nil }
        let done = kernel.perform(armed.map { .timerSettime($0.id, absolute: false, $0.arming!) },
                                  stopOnError: true, finally: [])
        for (timer, result) in zip(armed, done.results) {
            if let error = result.failure {
                let failure = SyscallError("timer_settime", timerID: timer.id, errno: error)
                throw RestoreFailure(.syscallFailed, failure.description, syscallError: failure)
            }
        }
        for timer in plan.timers {
            if let overrun = timer.overrun, overrun > 0, !kernel.restoreOverrun(timer.id, count: overrun) {
                overrunsLost.append(timer.id)
            }
        }
        if !overrunsLost.isEmpty {
            report.notes.append("overrun counts not restored for \(overrunsLost.count) timer(s) (IDs "
                + overrunsLost.prefix(5).map(String.init).joined(separator: ", ")
                + (overrunsLost.count > 5 ? ", ..." : "") + "): no kernel interface sets them")
        }
    }
}

extension CheckpointTimer {
    /// Timers as the restored process's /proc shows them, with their time read
    /// back by timer_gettime and timer_getoverrun in one batch (not counted as
    /// restore syscalls).
    static func readBack<K: TimerKernel>(_ shown: [ProcTimer], in kernel: K) -> [CheckpointTimer] {
        let calls = shown.flatMap { [KernelCall.timerGettime($0.id), .timerGetoverrun($0.id)] }
        let results = kernel.perform(calls, stopOnError: false, finally: []).results
        return shown.enumerated().map { index, timer in
            var restored = CheckpointTimer(id: timer.id, clockID: timer.clockID, signal: timer.signal,
                                           sigevValue: timer.sigevValue, notify: timer.notify,
                                           notifyTarget: timer.notifyTarget)
            if case let .time(value) = results[2 * index] {
                restored.valueNanoseconds = value.valueNanoseconds
                restored.intervalNanoseconds = value.intervalNanoseconds
                if case let .value(count) = results[2 * index + 1] { restored.overrun = Int32(truncatingIfNeeded: count) }
            }
            return restored
        }
    }
}
