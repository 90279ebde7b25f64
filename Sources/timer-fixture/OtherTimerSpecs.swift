#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import HostKernel
import TimerCore
import TimerFormats

/// `--timerfd fd=N,clock=C,arm=D,interval=D,abs=1,flags=nonblock+cloexec`:
/// a timerfd at a chosen fd number.
struct TimerFDSpec {
    var fd: Int32 = -1
    var clock: ClockID = .monotonic
    var flags: UInt32 = 0
    var absolute = false
    var valueNanoseconds: Int64 = 0
    var intervalNanoseconds: Int64 = 0

    init(parsing text: String) throws(FixtureError) {
        for (key, raw) in try keyValuePairs(text) {
            switch key {
            case "fd":
                guard let n = Int32(raw), n >= 3 else { throw .usage("fd=\(raw): an fd number from 3") }
                fd = n
            case "clock":
                guard let c = ClockID(name: raw) else { throw .usage("clock=\(raw): unknown clock") }
                clock = c
            case "flags":
                for word in raw.split(separator: "+") {
                    switch word {
                    case "nonblock": flags |= CheckpointTimerFD.O_NONBLOCK
                    case "cloexec": flags |= CheckpointTimerFD.O_CLOEXEC
                    default: throw .usage("flags=\(raw): nonblock, cloexec or nonblock+cloexec")
                    }
                }
            case "abs":
                guard raw == "1" || raw == "0" else { throw .usage("abs=\(raw): only abs=1 or abs=0") }
                absolute = raw == "1"
            case "arm": valueNanoseconds = try TimerSpec.duration(raw, key: key)
            case "interval": intervalNanoseconds = try TimerSpec.duration(raw, key: key)
            default: throw .usage("unknown timerfd key \"\(key)\"")
            }
        }
        guard fd >= 0 else { throw .usage("--timerfd needs fd=N") }
    }

    /// timerfd_create, timerfd_settime (an absolute deadline = now + arm), dup3 to `fd`.
    func create(on kernel: HostKernel) throws(FixtureError) {
        func failed(_ call: String, _ e: KernelErrno) -> FixtureError { .syscall(SyscallError(call, errno: e)) }
        let created: Int32
        do { created = try kernel.timerfdCreate(clock: clock, flags: flags) } catch { throw failed("timerfd_create", error) }
        var value = valueNanoseconds
        if absolute && value != 0 { value += kernel.clockNow(clock) }
        if valueNanoseconds != 0 || absolute {
            do {
                try kernel.timerfdSettime(created, flags: absolute ? CheckpointTimerFD.TFD_TIMER_ABSTIME : 0,
                                          TimerValue(valueNanoseconds: value, intervalNanoseconds: intervalNanoseconds))
            } catch { throw failed("timerfd_settime", error) }
        }
        if created != fd {
            // Keep whatever the parent left open at `fd` (Foundation's Process
            // watches a socket it hands the child: closing it makes the parent
            // think the child exited and block in waitpid for ever).
            if fcntl(fd, F_GETFD) >= 0 { _ = fcntl(fd, F_DUPFD, Int32(1000)) }
            do {
                try kernel.dup3(created, to: fd, closeOnExec: flags & CheckpointTimerFD.O_CLOEXEC != 0)
                try kernel.close(created)
            } catch { throw failed("dup3", error) }
        }
    }
}

/// `--itimer which=real|virtual|prof,arm=D,interval=D`.
struct ITimerSpec {
    var which: CheckpointITimers.Which = .real
    var value = TimerValue.disarmed

    init(parsing text: String) throws(FixtureError) {
        for (key, raw) in try keyValuePairs(text) {
            switch key {
            case "which":
                guard let w = CheckpointITimers.Which.allCases.first(where: { $0.name == raw }) else {
                    throw .usage("which=\(raw): real, virtual or prof")
                }
                which = w
            case "arm": value.valueNanoseconds = try TimerSpec.duration(raw, key: key)
            case "interval": value.intervalNanoseconds = try TimerSpec.duration(raw, key: key)
            default: throw .usage("unknown itimer key \"\(key)\"")
            }
        }
    }

    static let signals: [Int32] = [SIGALRM, SIGVTALRM, SIGPROF]
}
