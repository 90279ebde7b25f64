/// Restores a checkpoint's timerfds and interval timers into one process of
/// any `TimerFDKernel`, after its POSIX timers, and verifies them through the
/// process's own fdinfo and getitimer (docs/restore.md, "timerfds and
/// itimers"). Three things CRIU loses are kept (docs/kernel-facts.md 8):
/// a one-shot itimer is re-armed, a periodic timerfd dumped with value 0 is
/// armed with its interval, an absolute realtime timerfd keeps its deadline.
public enum TimerFDRestore {
    /// Creates, places, arms and ticks every timerfd, then sets the itimers;
    /// on success reads them all back into `report` and compares.
    public static func restore<K: TimerFDKernel>(_ checkpoint: Checkpoint, on kernel: K,
                                                 report: inout RestoreReport) throws(RestoreFailure) {
        let timerFDs = checkpoint.timerFDs ?? []
        // 1. Every number must be free before anything is created.
        for timerFD in timerFDs where kernel.isOpen(timerFD.fd) {
            throw RestoreFailure(.planRefused,
                "timerfd \(timerFD.fd): fd \(timerFD.fd) is already open in process \(kernel.processID): refusing to replace it")
        }
        var rebased: [Int32] = []
        var ticksLost: [Int32] = []
        for timerFD in timerFDs {
            func failed(_ call: String, _ errno: KernelErrno) -> RestoreFailure {
                let error = SyscallError(call, errno: errno)
                let arguments: String
                switch call {
                case "timerfd_create": arguments = "\(timerFD.clockID.name), 0x\(String(timerFD.createFlags, radix: 16))"
                case "dup2", "dup3": arguments = "N, \(timerFD.fd)"
                default: arguments = "\(timerFD.fd)"
                }
                return RestoreFailure(.syscallFailed,
                    "timerfd \(timerFD.fd): \(call)(\(arguments)): \(errno.name): \(errno.message)", syscallError: error)
            }
            // 2. Create (lowest free fd), then move it to its number.
            let created: Int32
            do { created = try kernel.timerfdCreate(clock: timerFD.clockID, flags: timerFD.createFlags) } catch {
                throw failed("timerfd_create", error)
            }
            if created != timerFD.fd {
                let keepCloseOnExec = timerFD.flags & CheckpointTimerFD.O_CLOEXEC != 0
                do { try kernel.dup3(created, to: timerFD.fd, closeOnExec: keepCloseOnExec) } catch {
                    throw failed(keepCloseOnExec ? "dup3" : "dup2", error)
                }
                do { try kernel.close(created) } catch { throw failed("close", error) }
            }
            // 3. Arm (settime also resets ticks, so the ioctl comes after).
            let (flags, value, wasRebased) = arming(timerFD, dumpClocks: checkpoint.dumpClocks, on: kernel)
            if wasRebased { rebased.append(timerFD.fd) }
            if value.isArmed || timerFD.settimeFlags != 0 {
                do { try kernel.timerfdSettime(timerFD.fd, flags: flags, value) } catch {
                    throw failed("timerfd_settime", error)
                }
            }
            // 4. Ticks not read yet.
            if timerFD.ticks > 0 {
                do { try kernel.timerfdSetTicks(timerFD.fd, timerFD.ticks) } catch {
                    if error == .ENOTTY || error == .EINVAL { ticksLost.append(timerFD.fd) } else {
                        throw failed("ioctl(TFD_IOC_SET_TICKS)", error)
                    }
                }
            }
        }
        // 5. Interval timers: every armed one, one-shot ones too.
        if let itimers = checkpoint.itimers {
            for which in CheckpointITimers.Which.allCases {
                let saved = itimers[which]
                guard saved.isArmed || saved.intervalNanoseconds != 0 else { continue }
                let value = saved.isArmed ? saved
                    : TimerValue(valueNanoseconds: saved.intervalNanoseconds, intervalNanoseconds: saved.intervalNanoseconds)
                do { try kernel.setitimer(which, value) } catch {
                    let error = SyscallError("setitimer(\(which.kernelName))", errno: error)
                    throw RestoreFailure(.syscallFailed, error.description, syscallError: error)
                }
            }
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
            for which in CheckpointITimers.Which.allCases {
                guard let value = try? kernel.getitimer(which) else {
                    differences.append("getitimer(\(which.kernelName)) failed")
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
