/// Restores a checkpoint's timerfds and interval timers into one process of
/// any `TimerFDKernel`, after its POSIX timers, and verifies them through the
/// process's own fdinfo and getitimer (docs/restore.md, "timerfds and
/// itimers"). Three things CRIU loses are kept (docs/kernel-facts.md 8):
/// a one-shot itimer is re-armed, a periodic timerfd dumped with value 0 is
/// armed with its interval, an absolute realtime timerfd keeps its deadline.
public enum TimerFDRestore {
    /// Creates, places, arms and ticks every timerfd, then sets the itimers,
    /// in one batch (one stop of a live target); on success reads them all
    /// back into `report` and compares.
    public static func restore<K: TimerFDKernel>(_ checkpoint: Checkpoint, on kernel: K,
                                                 report: inout RestoreReport) throws(RestoreFailure) {
        let timerFDs = checkpoint.timerFDs ?? []
        // 1. Every number must be free before anything is created; where each
        //    timerfd_create lands (the lowest free fd) follows from the same answers.
        try makeRoomForFDs(timerFDs, on: kernel, report: &report)
        let landings = try lowestFreeFDs(for: timerFDs, on: kernel)
        var steps: [TimerFDStep] = []
        var labels: [CallLabel] = []         // the failing call, as the error prints it
        func add(_ call: TimerFDCall, _ label: CallLabel, stopsOnError: Bool = true) {
            steps.append(TimerFDStep(call, stopsOnError: stopsOnError))
            labels.append(label)
        }
        // 2. Create (lowest free fd), then move it to its number: dup3 and close
        //    take the fd the create returned, in the same batch.
        var creates: [Int] = []
        for (timerFD, landing) in zip(timerFDs, landings) {
            let create = steps.count
            creates.append(create)
            add(.timerfdCreate(clock: timerFD.clockID, flags: timerFD.createFlags),
                CallLabel(timerFD.fd, "timerfd_create", "\(timerFD.clockID.name), 0x\(String(timerFD.createFlags, radix: 16))"))
            if landing != timerFD.fd {
                let keepCloseOnExec = timerFD.flags & CheckpointTimerFD.O_CLOEXEC != 0
                add(.dup3(.resultOf(call: create), to: timerFD.fd, closeOnExec: keepCloseOnExec),
                    CallLabel(timerFD.fd, keepCloseOnExec ? "dup3" : "dup2", "\(landing), \(timerFD.fd)"))
                add(.close(.resultOf(call: create)), CallLabel(timerFD.fd, "close", "\(landing)"))
            }
        }
        // 3. Arm (settime also resets ticks, so the ioctls come after).
        var rebased: [Int32] = []
        for timerFD in timerFDs {
            let (flags, value, wasRebased) = arming(timerFD, dumpClocks: checkpoint.dumpClocks, on: kernel)
            if wasRebased { rebased.append(timerFD.fd) }
            if value.isArmed || timerFD.settimeFlags != 0 {
                add(.timerfdSettime(timerFD.fd, flags: flags, value), CallLabel(timerFD.fd, "timerfd_settime", "\(timerFD.fd)"))
            }
        }
        // 4. Interval timers: every armed one, one-shot ones too.
        if let itimers = checkpoint.itimers {
            for which in CheckpointITimers.Which.allCases {
                let saved = itimers[which]
                guard saved.isArmed || saved.intervalNanoseconds != 0 else { continue }
                let value = saved.isArmed ? saved
                    : TimerValue(valueNanoseconds: saved.intervalNanoseconds, intervalNanoseconds: saved.intervalNanoseconds)
                add(.setitimer(which, value), CallLabel(nil, "setitimer(\(which.kernelName))", nil))
            }
        }
        // 5. Ticks not read yet, last: a kernel without the ioctl loses only them.
        for timerFD in timerFDs where timerFD.ticks > 0 {
            add(.timerfdSetTicks(timerFD.fd, timerFD.ticks), CallLabel(timerFD.fd, "ioctl(TFD_IOC_SET_TICKS)", "\(timerFD.fd)"),
                stopsOnError: false)
        }
        let results = steps.isEmpty ? [] : kernel.performTimerFD(steps)

        var ticksLost: [Int32] = []
        var failure: RestoreFailure?
        for (index, (step, result)) in zip(steps, results).enumerated() {
            guard let errno = result.failure else { continue }
            if case let .timerfdSetTicks(fd, _) = step.call, errno == .ENOTTY || errno == .EINVAL {
                ticksLost.append(fd)
                continue
            }
            if failure == nil { failure = labels[index].failure(errno) }
        }
        // A create that landed elsewhere than the lowest free fd it was
        // answered: the fd table changed meanwhile (shared with another process?).
        for (position, index) in creates.enumerated() {
            if case let .value(fd) = results[index], fd != Int64(landings[position]), failure == nil {
                failure = RestoreFailure(.syscallFailed,
                    "timerfd \(timerFDs[position].fd): timerfd_create returned fd \(fd), not \(landings[position]) (the lowest free fd "
                    + "a moment before): the fd table of process \(kernel.processID) changed during the restore")
            }
        }
        if let failure {
            closeStrays(timerFDs, creates: creates, steps: steps, results: results, on: kernel)
            throw failure
        }
        if !rebased.isEmpty {
            report.notes.append("absolute timerfd(s) at fd \(list(rebased)) re-based on this machine's clock by their "
                + "time left (a boot-based clock, or no dump-time clock reading in the checkpoint)")
        }
        if !ticksLost.isEmpty {
            report.notes.append("ticks of timerfd(s) at fd \(list(ticksLost)) not restored: this kernel has no "
                + "TFD_IOC_SET_TICKS (Linux 3.17+ with CONFIG_CHECKPOINT_RESTORE)")
        }
        report.ticksNotRestored = Set(ticksLost)
    }

    /// A call of the batch as its error prints it: "timerfd 7: dup2(3, 7): EBADF: ...".
    struct CallLabel {
        var fd: Int32?
        var syscall: String
        var arguments: String?
        init(_ fd: Int32?, _ syscall: String, _ arguments: String?) {
            self.fd = fd
            self.syscall = syscall
            self.arguments = arguments
        }

        func failure(_ errno: KernelErrno) -> RestoreFailure {
            let error = SyscallError(syscall, errno: errno)
            guard let fd, let arguments else { return RestoreFailure(.syscallFailed, error.description, syscallError: error) }
            return RestoreFailure(.syscallFailed, "timerfd \(fd): \(syscall)(\(arguments)): \(errno.name): \(errno.message)",
                                  syscallError: error)
        }
    }

    /// An fd must be below RLIMIT_NOFILE's soft limit (dup3 answers EBADF
    /// otherwise): raises it to the highest fd + 1 when lower, up to the hard
    /// limit (no privilege needed), and says so; refuses above the hard limit.
    static func makeRoomForFDs<K: TimerFDKernel>(_ timerFDs: [CheckpointTimerFD], on kernel: K,
                                                 report: inout RestoreReport) throws(RestoreFailure) {
        guard let highest = timerFDs.map(\.fd).max() else { return }
        let needed = UInt64(highest) + 1
        let limit: FDLimit
        do { limit = try kernel.fdLimit() } catch {
            throw RestoreFailure(.syscallFailed, "prlimit64(\(kernel.processID), RLIMIT_NOFILE): \(error.name): \(error.message)",
                                 syscallError: SyscallError("prlimit64", errno: error))
        }
        guard needed > limit.soft else { return }
        if needed > limit.hard {
            throw RestoreFailure(.planRefused,
                "timerfd \(highest): fd \(highest) is not below the RLIMIT_NOFILE hard limit \(limit.hard) of process "
                + "\(kernel.processID) (only CAP_SYS_RESOURCE raises it, e.g. prlimit --nofile=\(needed)): refusing")
        }
        do { try kernel.setFDLimit(FDLimit(soft: needed, hard: limit.hard)) } catch {
            throw RestoreFailure(.syscallFailed,
                "prlimit64(\(kernel.processID), RLIMIT_NOFILE, {\(needed), \(limit.hard)}): \(error.name): \(error.message)",
                syscallError: SyscallError("prlimit64", errno: error))
        }
        report.notes.append("RLIMIT_NOFILE of process \(kernel.processID) raised from \(limit.soft) to \(needed) "
            + "(hard limit \(limit.hard)) for timerfd \(highest)")
    }

    /// Where each timerfd_create of the batch will land: the lowest fd free
    /// then (fs/file.c alloc_fd). One batch of fcntl(F_GETFD) over the wanted
    /// numbers and the low ones (again, further up, in a process with many
    /// fds open). Refuses when a wanted number is taken.
    static func lowestFreeFDs<K: TimerFDKernel>(for timerFDs: [CheckpointTimerFD], on kernel: K) throws(RestoreFailure) -> [Int32] {
        guard !timerFDs.isEmpty else { return [] }
        var open: Set<Int32> = []
        var probed: Set<Int32> = []
        var below = Int32(timerFDs.count) + 64
        while true {
            let numbers = (Set(0..<below).union(timerFDs.map(\.fd))).subtracting(probed).sorted()
            let results = kernel.performTimerFD(numbers.map { TimerFDStep(.getFDFlags($0), stopsOnError: false) })
            for (fd, result) in zip(numbers, results) {
                switch result {
                case .value: open.insert(fd)
                case .failed(.EBADF): break
                case .failed(let errno):
                    throw RestoreFailure(.syscallFailed, "fcntl(\(fd), F_GETFD): \(errno.name): \(errno.message)",
                                         syscallError: SyscallError("fcntl", errno: errno))
                default:
                    throw RestoreFailure(.syscallFailed, "fcntl(\(fd), F_GETFD) was not made")
                }
            }
            probed.formUnion(numbers)
            for timerFD in timerFDs where open.contains(timerFD.fd) {
                throw RestoreFailure(.planRefused,
                    "timerfd \(timerFD.fd): fd \(timerFD.fd) is already open in process \(kernel.processID): refusing to replace it")
            }
            // Each create takes the lowest number free then; a moved one frees it again.
            var taken = open
            var landings: [Int32] = []
            for timerFD in timerFDs {
                guard let free = (0..<below).first(where: { !taken.contains($0) }) else { break }
                landings.append(free)
                taken.insert(timerFD.fd)
            }
            if landings.count == timerFDs.count { return landings }
            guard below < Int32.max / 2 else {
                throw RestoreFailure(.syscallFailed, "no free fd below \(below) in process \(kernel.processID)")
            }
            below *= 2
        }
    }

    /// After a failure: closes the fds the batch's creates left at numbers
    /// that are not theirs (the timerfds at their own numbers stay, listed by
    /// the report, for the caller's roll-back).
    static func closeStrays<K: TimerFDKernel>(_ timerFDs: [CheckpointTimerFD], creates: [Int], steps: [TimerFDStep],
                                              results: [KernelCallResult], on kernel: K) {
        var strays: [TimerFDStep] = []
        for (position, index) in creates.enumerated() {
            guard case let .value(fd) = results[index], fd != Int64(timerFDs[position].fd) else { continue }
            // A moved one is closed by the close two steps on, if that ran.
            let closed = index + 2 < steps.count && steps[index + 2].call == .close(.resultOf(call: index))
                && results[index + 2] == .value(0)
            if !closed { strays.append(TimerFDStep(.close(.fd(Int32(fd))), stopsOnError: false)) }
        }
        if !strays.isEmpty { _ = kernel.performTimerFD(strays) }
    }

    /// timerfd_settime's flags and value for a dumped timerfd, and whether
    /// an absolute deadline had to be re-based.
    static func arming<K: TimerFDKernel>(_ timerFD: CheckpointTimerFD, dumpClocks: DumpClocks?, on kernel: K)
        -> (flags: UInt32, value: TimerValue, rebased: Bool) {
        let interval = timerFD.intervalNanoseconds
        // Value 0 with an interval: expired, not forwarded; arming with 0 would disarm it.
        let left = timerFD.isUnforwardedPeriodic ? interval : timerFD.valueNanoseconds
        guard left != 0 else { return (timerFD.settimeFlags, .disarmed, false) }
        guard timerFD.isAbsolute else {
            return (timerFD.settimeFlags, TimerValue(valueNanoseconds: left, intervalNanoseconds: interval), false)
        }
        // Absolute: the same instant where the clock's epoch survives the move
        // (realtime), else the same time left from now on this machine.
        if CheckpointTimerFD.epochSurvives(timerFD.clockID), let dumpedAt = dumpClocks?.reading(timerFD.clockID),
           !timerFD.isUnforwardedPeriodic {
            let (deadline, overflow) = dumpedAt.addingReportingOverflow(left)
            if !overflow {
                return (timerFD.settimeFlags, TimerValue(valueNanoseconds: deadline, intervalNanoseconds: interval), false)
            }
        }
        let (deadline, overflow) = kernel.clockNow(timerFD.clockID).addingReportingOverflow(left)
        // Re-based (a realtime timer only when the checkpoint has no dump-time
        // reading of the clock, as CRIU images do not).
        return (timerFD.settimeFlags,
                TimerValue(valueNanoseconds: overflow ? .max : deadline, intervalNanoseconds: interval), true)
    }

    /// Reads every restored timerfd back from the process's own fdinfo and
    /// every itimer by getitimer; returns the differences from the checkpoint.
    public static func verify<K: TimerFDKernel>(_ checkpoint: Checkpoint, on kernel: K,
                                                report: inout RestoreReport) -> [String] {
        var differences: [String] = []
        if let timerFDs = checkpoint.timerFDs {
            var shown: [CheckpointTimerFD] = []
            for timerFD in timerFDs {
                let name = "timerfd \(timerFD.fd)"
                let info: TimerFDInfo
                do {
                    info = try TimerFDInfoParser.parse(try kernel.readFDInfo(timerFD.fd))
                } catch {
                    differences.append("\(name): fdinfo cannot be read back: \(error)")
                    continue
                }
                let back = CheckpointTimerFD(fd: timerFD.fd, info: info)
                shown.append(back)
                if back.clockID != timerFD.clockID {
                    differences.append("\(name): clock \(back.clockID.name), checkpoint \(timerFD.clockID.name)")
                }
                if back.createFlags != timerFD.createFlags {
                    differences.append("\(name): flags 0x\(String(back.createFlags, radix: 16)), checkpoint 0x\(String(timerFD.createFlags, radix: 16))")
                }
                if back.settimeFlags != timerFD.settimeFlags {
                    differences.append("\(name): settime flags \(back.settimeFlags), checkpoint \(timerFD.settimeFlags)")
                }
                if back.intervalNanoseconds != timerFD.intervalNanoseconds {
                    differences.append("\(name): interval \(back.intervalNanoseconds) ns, checkpoint \(timerFD.intervalNanoseconds) ns")
                }
                if back.ticks < timerFD.ticks && !report.ticksNotRestored.contains(timerFD.fd) {
                    differences.append("\(name): ticks \(back.ticks), checkpoint \(timerFD.ticks)")
                }
                let shouldBeArmed = timerFD.valueNanoseconds != 0 || timerFD.intervalNanoseconds != 0
                // A one-shot may have fired since (it then has a tick).
                let isArmedOrFired = back.valueNanoseconds != 0 || back.ticks > timerFD.ticks
                    || back.intervalNanoseconds != 0
                if shouldBeArmed != isArmedOrFired {
                    differences.append("\(name): \(isArmedOrFired ? "armed" : "disarmed"), checkpoint \(shouldBeArmed ? "armed" : "disarmed")")
                }
            }
            report.timerFDs = shown
        }
        if let itimers = checkpoint.itimers {
            var back = CheckpointITimers()
            // The three in one batch (one stop of a live target).
            let read = kernel.performTimerFD(CheckpointITimers.Which.allCases.map { TimerFDStep(.getitimer($0), stopsOnError: false) })
            for (which, result) in zip(CheckpointITimers.Which.allCases, read) {
                guard case let .time(value) = result else {
                    differences.append("getitimer(\(which.kernelName)) failed" + (result.failure.map { ": \($0.name)" } ?? ""))
                    continue
                }
                back[which] = value
                let saved = itimers[which]
                // setitimer takes microseconds: compare at that precision.
                if value.intervalNanoseconds / 1000 != saved.intervalNanoseconds / 1000 {
                    differences.append("itimer \(which.name): interval \(value.intervalNanoseconds) ns, checkpoint \(saved.intervalNanoseconds) ns")
                }
                let shouldBeArmed = saved.isArmed || saved.intervalNanoseconds != 0
                if value.isArmed != shouldBeArmed && !(saved.intervalNanoseconds == 0 && saved.valueNanoseconds < 1000) {
                    differences.append("itimer \(which.name): \(value.isArmed ? "armed" : "disarmed"), checkpoint \(shouldBeArmed ? "armed" : "disarmed")")
                }
            }
            report.itimers = back
        }
        return differences
    }

    static func list(_ fds: [Int32]) -> String { fds.map(String.init).joined(separator: ", ") }
}
