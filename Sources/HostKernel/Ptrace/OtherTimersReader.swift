import TimerCore
import TimerFormats

/// `dump --values` for the other two kinds: getitimer of the three interval
/// timers and timerfd_gettime of every timerfd, injected into the process in
/// one stop (the generic `SyscallBatch` engine). timerfd_gettime forwards a
/// periodic timerfd and brings its ticks up to date (docs/kernel-facts.md 8),
/// so the fdinfo read right after it shows the real count.
public enum OtherTimersReader {
    // x86-64 syscall numbers (the injection engine is x86-64 only).
    static let SYS_getitimer = 36
    static let SYS_timerfd_gettime = 287

    /// Fills `checkpoint.itimers` and re-reads its timerfds (value from the
    /// injected timerfd_gettime, ticks from the fdinfo read after it), with
    /// their warnings.
    public static func fill(_ checkpoint: inout Checkpoint, procRoot: String = "/proc") throws(DumpWithValuesError) {
        let pid = checkpoint.pid
        let fds = checkpoint.timerFDs?.map(\.fd) ?? []
        var batch = SyscallBatch()
        var itimerCalls: [(CheckpointITimers.Which, call: Int, slot: Int)] = []
        for which in CheckpointITimers.Which.allCases {
            let slot = batch.block(bytes: 32)      // struct itimerval: interval, value (sec, usec)
            itimerCalls.append((which, batch.add(SYS_getitimer, [.int(Int64(which.rawValue)), .block(slot)]), slot))
        }
        var gettimeCalls: [(fd: Int32, call: Int, slot: Int)] = []
        for fd in fds {
            let slot = batch.block(bytes: 32)      // struct itimerspec: interval, value (sec, nsec)
            gettimeCalls.append((fd, batch.add(SYS_timerfd_gettime, [.int(Int64(fd)), .block(slot)]), slot))
        }
        // Itimers and fds belong to the process: any live thread can ask (the
        // leader shows Z once its main thread called pthread_exit).
        let thread = ProcFS.liveThreads(pid: pid, procRoot: procRoot).first ?? pid
        do { try InjectionSession.runOnce(pid: thread, &batch) } catch { throw .values(error) }
        var itimers = CheckpointITimers()
        for (which, call, slot) in itimerCalls {
            let result = batch.result(call) ?? -Int64(KernelErrno.EIO.rawValue)
            if result < 0 {
                throw .values(.syscallFailed(pid: pid, SyscallError("getitimer(\(which.kernelName))",
                                                                    errno: KernelErrno(rawValue: Int32(-result)))))
            }
            itimers[which] = TimerValue(
                valueNanoseconds: batch.load(Int64.self, at: slot + 16) * 1_000_000_000 + batch.load(Int64.self, at: slot + 24) * 1000,
                intervalNanoseconds: batch.load(Int64.self, at: slot) * 1_000_000_000 + batch.load(Int64.self, at: slot + 8) * 1000)
        }
        checkpoint.itimers = itimers
        var forwarded: [Int32: TimerValue] = [:]
        for (fd, call, slot) in gettimeCalls {
            // EBADF/EINVAL: closed (or replaced) since the listing; the re-read below leaves it out.
            guard let result = batch.result(call), result == 0 else { continue }
            forwarded[fd] = TimerValue(
                valueNanoseconds: batch.load(Int64.self, at: slot + 16) * 1_000_000_000 + batch.load(Int64.self, at: slot + 24),
                intervalNanoseconds: batch.load(Int64.self, at: slot) * 1_000_000_000 + batch.load(Int64.self, at: slot + 8))
        }
        guard !fds.isEmpty else { return }
        // The ticks after forwarding; a fast timer may have expired again
        // since, so its value is timerfd_gettime's.
        checkpoint.warnings.removeAll { $0.hasPrefix("timerfd") || $0.contains("whether timerfds are shared") }
        do { try ProcFS.addTimerFDs(to: &checkpoint, procRoot: procRoot) } catch { throw .proc(error) }
        guard var timerFDs = checkpoint.timerFDs else { return }
        for index in timerFDs.indices {
            guard let value = forwarded[timerFDs[index].fd], value.intervalNanoseconds == timerFDs[index].intervalNanoseconds,
                  timerFDs[index].valueNanoseconds == 0 else { continue }
            timerFDs[index].valueNanoseconds = value.valueNanoseconds
        }
        checkpoint.timerFDs = timerFDs
        checkpoint.warnings.removeAll { $0.hasPrefix("timerfd") && $0.contains("not forwarded") }
        checkpoint.warnings += timerFDs.filter(\.isUnforwardedPeriodic).isEmpty ? [] :
            Checkpoint.timerFDWarnings(timerFDs.filter(\.isUnforwardedPeriodic))
    }
}
