// timer-fixture: a process with exactly the POSIX timers it is told to create,
// for tests and demos of `timer-criu dump`. See `timer-fixture --help`.
#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import HostKernel
import TimerCore
import TimerFormats

func say(_ line: String, fd: Int32 = 1) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 { if errno == EINTR { continue }; return }
        offset += n
    }
}

func die(_ error: FixtureError) -> Never {
    say("timer-fixture: \(error)", fd: 2)
    if case .usage = error { say(TimerSpec.usage, fd: 2) }
    exit(error.exitCode)
}

/// A thread that exists only until its timer is created, so that the timer's
/// notify target is a tid that no longer belongs to the process.
final class ShortLivedThread {
    private let started = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private let release = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private var thread = pthread_t()
    private(set) var tid: Int32 = 0

    init() {
        sem_init(started, 0, 0)
        sem_init(release, 0, 0)
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<ShortLivedThread>.fromOpaque(raw!).takeRetainedValue()
            me.tid = tc_gettid()
            sem_post(me.started)
            while sem_wait(me.release) != 0 {}
            return nil
        }, context)
        precondition(rc == 0, "pthread_create: \(rc)")
        while sem_wait(started) != 0 {}
    }

    /// Lets the thread return and waits until the kernel has reaped it.
    func end() {
        sem_post(release)
        pthread_join(thread, nil)
    }
}

func syscallError(_ call: String, id: Int32?, _ e: KernelErrno) -> FixtureError {
    let reason: String? = switch (call, e) {
    case ("timer_create", .EBUSY): "ID already in use"
    case ("prctl(PR_TIMER_CREATE_RESTORE_IDS)", .EINVAL): "this kernel has no create-at-ID (Linux 6.15+)"
    default: nil
    }
    return .syscall(SyscallError(call, timerID: id, errno: e, reason: reason))
}

func run(_ arguments: [String]) throws(FixtureError) -> Never {
    var specs: [TimerSpec] = []
    var threadCount: Int?
    var mainExits = false
    var blockAll = false
    var churn = false
    var forkChild = false
    var timerFDs: [TimerFDSpec] = []
    var itimers: [ITimerSpec] = []
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "-h", "--help":
            say(TimerSpec.usage)
            exit(0)
        case "--threads":
            index += 1
            guard index < arguments.count, let n = Int(arguments[index]), n >= 0 else {
                throw .usage("--threads needs a count")
            }
            threadCount = n
        case "--main-exits":
            mainExits = true
        case "--block-signals":
            blockAll = true
        case "--churn":
            churn = true
        case "--fork":
            forkChild = true
        case "--timerfd", "--itimer":
            index += 1
            guard index < arguments.count else { throw .usage("\(argument) needs key=value pairs") }
            if argument == "--timerfd" { timerFDs.append(try TimerFDSpec(parsing: arguments[index])) } else {
                itimers.append(try ITimerSpec(parsing: arguments[index]))
            }
        default:
            specs.append(try TimerSpec(parsing: argument))
        }
        index += 1
    }

    // Block every signal a timer may deliver, before any thread starts (threads
    // inherit the mask), so an armed timer stays pending instead of killing us.
    var mask = sigset_t()
    sigemptyset(&mask)
    for spec in specs {
        let signal = spec.sigevent?.signal ?? Sigevent.SIGALRM
        guard signal >= 1 && signal <= Sigevent.SIGRTMAX && signal != SIGKILL && signal != SIGSTOP else { continue }
        // glibc keeps 32 and 33 for itself: sigprocmask cannot block them.
        if (signal == 32 || signal == 33) && spec.valueNanoseconds != 0 {
            throw .usage("signal \(signal) is glibc-internal and cannot be blocked: such a timer cannot be armed")
        }
        sigaddset(&mask, signal)
    }
    for signal in ITimerSpec.signals { sigaddset(&mask, signal) }
    // --block-signals: every signal, as simulate's host child does (timers a
    // script arms into this process, e.g. through simulate --into, stay pending).
    if blockAll { sigfillset(&mask) }
    sigprocmask(SIG_BLOCK, &mask, nil)

    let needed = specs.compactMap { spec -> Int? in
        if spec.usesThreadID, case let .extra(n) = spec.target { return n }
        return nil
    }.max() ?? 0
    // --main-exits needs one thread to keep the process alive.
    let extra = HostThreads.start(count: max(threadCount ?? needed, needed, mainExits ? 1 : 0))
    for tid in extra { say("thread \(tid)") }

    let pid = getpid()
    var createAtID = false
    for spec in specs {
        for k in 0..<spec.count {
            let wantedID = spec.id.map { $0 &+ Int32(k) }
            if let wantedID, wantedID < 0 { throw .usage("id + count goes past 2147483647") }
            let wantAtID = wantedID != nil
            if wantAtID != createAtID {
                let op: RestoreIDsOperation = wantAtID ? .on : .off
                do { try TimerSyscalls.restoreIDs(op) } catch {
                    throw syscallError("prctl(PR_TIMER_CREATE_RESTORE_IDS)", id: nil, error)
                }
                createAtID = wantAtID
            }

            var shortLived: ShortLivedThread?
            var targetTID: Int32 = pid
            if spec.usesThreadID {
                switch spec.target {
                case .main: targetTID = pid
                case let .extra(n): targetTID = extra[n - 1]
                case .exited:
                    shortLived = ShortLivedThread()
                    targetTID = shortLived!.tid
                }
            }

            let id: Int32
            do {
                id = try TimerSyscalls.create(clock: spec.clock, sigevent: spec.sigevent.map { sigevent in
                    Sigevent(notify: sigevent.notify, signal: sigevent.signal, value: sigevent.value, threadID: targetTID)
                }, idBuffer: wantedID ?? 0)
            } catch {
                throw syscallError("timer_create", id: wantedID, error)
            }
            if let shortLived {
                shortLived.end()
                say("exited-thread \(shortLived.tid)")
            }

            if spec.deleted {
                do { try TimerSyscalls.delete(id) } catch { throw syscallError("timer_delete", id: id, error) }
                continue
            }
            if spec.valueNanoseconds != 0 || spec.intervalNanoseconds != 0 {
                let value = TimerValue(valueNanoseconds: spec.valueNanoseconds, intervalNanoseconds: spec.intervalNanoseconds)
                do { try TimerSyscalls.settime(id, value) } catch { throw syscallError("timer_settime", id: id, error) }
            }
            if spec.count <= 16 { say("timer \(id)") }
        }
        if spec.count > 16 || spec.deleted { say(spec.deleted ? "deleted \(spec.count)" : "timers \(spec.count)") }
    }
    if createAtID { _ = try? TimerSyscalls.restoreIDs(.off) }

    let host = HostKernel()
    for spec in timerFDs {
        try spec.create(on: host)
        say("timerfd \(spec.fd)")
    }
    for spec in itimers {
        do { try host.setitimer(spec.which, spec.value) } catch {
            throw .syscall(SyscallError("setitimer(\(spec.which.kernelName))", errno: error))
        }
        say("itimer \(spec.which.name)")
    }

    if forkChild {
        // A child holding the same timerfds (one open file each with ours);
        // it dies with us (PR_SET_PDEATHSIG) and only waits.
        let child = fork()
        if child == 0 {
            _ = tc_prctl(1, UInt(SIGKILL), 0, 0, 0)     // PR_SET_PDEATHSIG
            if getppid() != pid { _exit(0) }
            while true { pause() }
        }
        if child < 0 { throw .syscall(SyscallError("fork", errno: KernelErrno(rawValue: errno))) }
        say("child \(child)")
    }
    say("ready \(pid)")
    // The leader becomes a zombie (State: Z) while the process lives on in
    // its other threads, with all its timers.
    if mainExits { pthread_exit(nil) }
    // Keeps creating and deleting timers (64 at a time, SIGEV_NONE), so that
    // a listing of /proc/PID/timers is out of date by the time it is used.
    while churn {
        var ids = [Int32](repeating: 0, count: 64)
        for k in ids.indices { ids[k] = (try? TimerSyscalls.create(clock: .monotonic, notify: .none)) ?? 0 }
        for id in ids { try? TimerSyscalls.delete(id) }
    }
    while true { pause() }
}

do {
    try run(Array(CommandLine.arguments.dropFirst()))
} catch {
    die(error)
}
