// timer-target: a victim for `dump --values` tests and Scripts/kill-loop.sh.
//
// It arms four POSIX timers, keeps a checksum of deterministic work, prints
//   ready <pid> periodic=<id> oneshot=<id> disarmed=<id> long=<id>
// and on every SIGUSR1 prints
//   status signals=<n> steps=<n> checksum=ok|BAD waits=<n> waiterrors=<n> spurious=<n>
// so a test can check "still firing, computation unaffected" after a dump:
// `signals` (periodic timer expiries handled) keeps growing, `checksum=ok`
// means every chunk of work (integer LCG in general registers, a float sum in
// SSE registers) matched its closed form, and the wait counters say whether a
// blocking syscall interrupted by the dump came back as it should have.
//
// Timers (all CLOCK_MONOTONIC, raw timer_create):
//   periodic  10 ms / 10 ms, SIGRTMIN+1, counted by a handler
//   oneshot   100 s once, SIGRTMIN+2
//   disarmed  never armed, SIGRTMIN+3
//   long      50 s then every 7.5 s, SIGRTMIN+2
//
// Options:
//   --wait compute|pause|sigsuspend|nanosleep|altstack  what the main thread
//       does between chunks of work (default compute: it never blocks;
//       altstack: it does all its work inside a SIGUSR2 handler running on a
//       malloc'ed alternate signal stack, and never leaves it)
//   --signal-thread  periodic signals go to a helper thread (SIGEV_THREAD_ID);
//       the main thread blocks them, so it stays blocked in its wait
//   --threads N      N extra threads doing the same checked work
//   --lifetime S     exit after S seconds (default 600), so nothing is left behind
//   --churn BASE     one more thread creates and deletes timers in a loop with the
//       raw syscall, its timer_t buffer holding BASE + n % 2048 (a stale ID): in
//       create-at-ID mode that create would take ID BASE + n % 2048. The status line
//       adds churns=<creates> stolen=<creates that got their buffer's ID>
//   --timerfd FD     a timerfd of its own at fd FD (CLOCK_MONOTONIC, first expiry
//       in 1 h, then every 60 s), which a refused or rolled-back
//       `restore --into` must leave as it was (Scripts/kill-loop.sh --into)
//
// timer-target --read PID ID... [--repeat N] [--in-process] instead reads the
// values of another process's timers (see readMode below).
#if canImport(Glibc)
import Glibc
#endif
import CTimerInject
import CTimerSyscalls
import Synchronization

let periodicSignals = Atomic<Int>(0)
let handlerRuns = Atomic<Int>(0)
let reportRequests = Atomic<Int>(0)
let corrupted = Atomic<Int>(0)
let totalSteps = Atomic<Int>(0)

// Knuth's MMIX LCG: state(n) has a closed form, so a register clobbered mid-loop shows.
let lcgA: UInt64 = 6_364_136_223_846_793_005
let lcgC: UInt64 = 1_442_695_040_888_963_407
let lcgSeed: UInt64 = 0x9E37_79B9_7F4A_7C15
let chunkSteps = 200_000

/// state after n steps, by repeated squaring (Brown, "Random number generation with arbitrary strides").
func lcgJump(_ steps: UInt64) -> UInt64 {
    var accMult: UInt64 = 1, accPlus: UInt64 = 0, curMult = lcgA, curPlus = lcgC, n = steps
    while n > 0 {
        if n & 1 == 1 {
            accMult = accMult &* curMult
            accPlus = accPlus &* curMult &+ curPlus
        }
        curPlus = (curMult &+ 1) &* curPlus
        curMult = curMult &* curMult
        n >>= 1
    }
    return accMult &* lcgSeed &+ accPlus
}

let expectedFloatSum: Double = {
    var total = 0
    for k in 0..<chunkSteps { total += k & 1023 }
    return Double(total)
}()

/// The checked work of one thread: a running state and its step count.
struct Worker {
    var state = lcgSeed
    var steps: UInt64 = 0

    @inline(never)
    mutating func chunk() {
        var s = state
        var f = 0.0
        for k in 0..<chunkSteps {
            s = s &* lcgA &+ lcgC
            f += Double(k & 1023)
        }
        state = s
        steps += UInt64(chunkSteps)
        totalSteps.add(chunkSteps, ordering: .relaxed)
        if state != lcgJump(steps) || f != expectedFloatSum {
            corrupted.add(1, ordering: .relaxed)
        }
    }
}

func fail(_ message: String) -> Never {
    let line = "timer-target: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}

func install(_ signo: Int32, _ handler: @convention(c) (Int32) -> Void) {
    var action = sigaction()
    action.__sigaction_handler = .init(sa_handler: handler)
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0  // no SA_RESTART: an interrupted wait must say EINTR
    if sigaction(signo, &action, nil) != 0 { fail("sigaction(\(signo)): errno \(errno)") }
}

func allSignals(except keep: [Int32]) -> sigset_t {
    var set = sigset_t()
    sigfillset(&set)
    for s in keep { sigdelset(&set, s) }
    return set
}

// --- read mode: a minimal stand-in for `timer-criu dump PID --values` ---
// timer-target --read PID ID... [--repeat N] [--in-process]
// Runs the same C injector as TimerValueReader (tc_ptrace_read_timer_values)
// N times, prints the last values, exits 0 (1 on an injection error). It is
// what Scripts/kill-loop.sh kills when the CLI is not given with --tool.
func readMode(_ arguments: [String]) -> Never {
    var rest = arguments[...]
    var repeatCount = 1, inProcess = false
    var numbers: [Int32] = []
    while let argument = rest.popFirst() {
        switch argument {
        case "--repeat":
            guard let value = rest.popFirst(), let n = Int(value), n > 0 else { fail("--repeat needs a count > 0") }
            repeatCount = n
        case "--in-process": inProcess = true
        default:
            guard let n = Int32(argument) else { fail("--read: not a number: \(argument)") }
            numbers.append(n)
        }
    }
    guard numbers.count >= 2 else { fail("--read needs a pid and at least one timer id") }
    let pid = numbers[0], ids = Array(numbers.dropFirst())
    var out = [tc_timer_values](repeating: tc_timer_values(), count: ids.count)
    var report = tc_inject_report()
    for _ in 0..<repeatCount {
        let stage = tc_ptrace_read_timer_values(pid, ids, Int32(ids.count), &out, &report, inProcess ? 0 : 1, 10)
        if stage != 0 {
            say("error stage=\(stage) err=\(report.err) detail=\(report.detail)")
            exit(1)
        }
    }
    for entry in out {
        say("id=\(entry.id) value_ns=\(entry.value_sec * 1_000_000_000 + entry.value_nsec) interval_ns=\(entry.interval_sec * 1_000_000_000 + entry.interval_nsec) overrun=\(entry.overrun) errno=\(entry.gettime_errno)")
    }
    say("window_ns=\(report.window_nanoseconds) worker=\(report.worker_pid)")
    exit(0)
}
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "--read" {
    readMode(Array(CommandLine.arguments.dropFirst(2)))
}

// --- options ---
enum WaitMode: String { case compute, pause, sigsuspend, nanosleep, altstack }
var waitMode = WaitMode.compute
var signalThread = false
var extraThreads = 0
var lifetime: UInt32 = 600
var churnBase: Int32?
var ownTimerFD: Int32?
var arguments = CommandLine.arguments.dropFirst()
while let option = arguments.popFirst() {
    switch option {
    case "--wait":
        guard let value = arguments.popFirst(), let mode = WaitMode(rawValue: value) else {
            fail("--wait needs compute, pause, sigsuspend, nanosleep or altstack")
        }
        waitMode = mode
    case "--signal-thread": signalThread = true
    case "--threads":
        guard let value = arguments.popFirst(), let n = Int(value), n >= 0, n <= 64 else { fail("--threads needs 0...64") }
        extraThreads = n
    case "--churn":
        guard let value = arguments.popFirst(), let n = Int32(value), n >= 0, n <= Int32.max - 2048 else { fail("--churn needs an ID base") }
        churnBase = n
    case "--lifetime":
        guard let value = arguments.popFirst(), let n = UInt32(value), n > 0 else { fail("--lifetime needs seconds > 0") }
        lifetime = n
    case "--timerfd":
        guard let value = arguments.popFirst(), let n = Int32(value), n > 2, n < 1024 else { fail("--timerfd needs an fd 3...1023") }
        ownTimerFD = n
    default: fail("unknown option \(option)")
    }
}

if let ownTimerFD {
    let made = Int32(tc_timerfd_create(CLOCK_MONOTONIC, 0))
    if made < 0 { fail("timerfd_create: errno \(errno)") }
    if made != ownTimerFD {
        if dup2(made, ownTimerFD) < 0 { fail("dup2(\(made), \(ownTimerFD)): errno \(errno)") }
        close(made)
    }
    var spec = itimerspec(it_interval: timespec(tv_sec: 60, tv_nsec: 0), it_value: timespec(tv_sec: 3600, tv_nsec: 0))
    if tc_timerfd_settime(ownTimerFD, 0, &spec, nil) < 0 { fail("timerfd_settime(\(ownTimerFD)): errno \(errno)") }
}

let rtmin = Int32(__libc_current_sigrtmin())
let periodicSignal = rtmin + 1
let oneshotSignal = rtmin + 2
let disarmedSignal = rtmin + 3

install(periodicSignal) { _ in
    periodicSignals.add(1, ordering: .relaxed)
    handlerRuns.add(1, ordering: .relaxed)
}
install(SIGUSR1) { _ in
    reportRequests.add(1, ordering: .relaxed)
    handlerRuns.add(1, ordering: .relaxed)
}
// The one-shot and long timers must not fire within a test; if they do, count it.
install(oneshotSignal) { _ in handlerRuns.add(1, ordering: .relaxed) }
alarm(lifetime)  // SIGALRM's default action ends the process: never left behind

// Threads are started with every signal blocked; each then opens what it handles.
var everything = allSignals(except: [])
pthread_sigmask(SIG_SETMASK, &everything, nil)

let churns = Atomic<Int>(0)
let stolen = Atomic<Int>(0)
let churnFrom = Atomic<Int32>(churnBase ?? -1)
if churnBase != nil {
    var thread = pthread_t()
    pthread_create(&thread, nil, { _ in
        let base = churnFrom.load(ordering: .relaxed)
        var n: Int32 = 0
        while true {
            var id = base + n % 2048
            n &+= 1
            if tc_timer_create(CLOCK_MONOTONIC, 1, Int32(SIGEV_NONE), 0, 0, 0, &id) == 0 {
                churns.add(1, ordering: .relaxed)
                if id == base + (n - 1) % 2048 { stolen.add(1, ordering: .relaxed) }
                tc_timer_delete(id)
            }
        }
    }, nil)
}

let signalThreadID = Atomic<Int32>(0)
if signalThread {
    var thread = pthread_t()
    pthread_create(&thread, nil, { _ in
        signalThreadID.store(tc_gettid(), ordering: .releasing)
        var mask = allSignals(except: [periodicSignal])
        pthread_sigmask(SIG_SETMASK, &mask, nil)
        while true { pause() }
    }, nil)
    while signalThreadID.load(ordering: .acquiring) == 0 { usleep(1000) }
}
for _ in 0..<extraThreads {
    var thread = pthread_t()
    pthread_create(&thread, nil, { _ in
        var worker = Worker()
        while true { worker.chunk() }
    }, nil)
}

// Main thread: SIGUSR1 always; the periodic signal unless a helper thread takes it.
var mainMask = allSignals(except: signalThread ? [SIGUSR1, SIGALRM, SIGTERM, SIGINT, SIGHUP] : [SIGUSR1, SIGALRM, SIGTERM, SIGINT, SIGHUP, periodicSignal, oneshotSignal])
pthread_sigmask(SIG_SETMASK, &mainMask, nil)

func create(signal: Int32, toThread: Int32) -> Int32 {
    var id: Int32 = 0
    let notify: Int32 = toThread != 0 ? Int32(SIGEV_SIGNAL) | 4 /* SIGEV_THREAD_ID */ : Int32(SIGEV_SIGNAL)
    if tc_timer_create(CLOCK_MONOTONIC, 1, notify, signal, 0, toThread, &id) != 0 { fail("timer_create: errno \(errno)") }
    return id
}

func arm(_ id: Int32, valueNanoseconds: Int, intervalNanoseconds: Int) {
    var spec = itimerspec(
        it_interval: timespec(tv_sec: intervalNanoseconds / 1_000_000_000, tv_nsec: intervalNanoseconds % 1_000_000_000),
        it_value: timespec(tv_sec: valueNanoseconds / 1_000_000_000, tv_nsec: valueNanoseconds % 1_000_000_000))
    if tc_timer_settime(id, 0, &spec, nil) != 0 { fail("timer_settime(id=\(id)): errno \(errno)") }
}

let periodic = create(signal: periodicSignal, toThread: signalThreadID.load(ordering: .acquiring))
let oneshot = create(signal: oneshotSignal, toThread: 0)
let disarmed = create(signal: disarmedSignal, toThread: 0)
let long = create(signal: oneshotSignal, toThread: 0)
arm(periodic, valueNanoseconds: 10_000_000, intervalNanoseconds: 10_000_000)
arm(oneshot, valueNanoseconds: 100_000_000_000, intervalNanoseconds: 0)
arm(long, valueNanoseconds: 50_000_000_000, intervalNanoseconds: 7_500_000_000)

say("ready \(getpid()) periodic=\(periodic) oneshot=\(oneshot) disarmed=\(disarmed) long=\(long)")

var worker = Worker()
var waits = 0, waitErrors = 0, spurious = 0, answered = 0
var suspendMask = allSignals(except: signalThread ? [SIGUSR1, SIGALRM, SIGTERM, SIGINT, SIGHUP] : [SIGUSR1, SIGALRM, SIGTERM, SIGINT, SIGHUP, periodicSignal, oneshotSignal])

func answerRequests() {
    let requests = reportRequests.load(ordering: .relaxed)
    guard requests != answered else { return }
    answered = requests
    let checksum = corrupted.load(ordering: .relaxed) == 0 ? "ok" : "BAD"
    say("status signals=\(periodicSignals.load(ordering: .relaxed)) steps=\(totalSteps.load(ordering: .relaxed)) checksum=\(checksum) waits=\(waits) waiterrors=\(waitErrors) spurious=\(spurious)"
        + (churnBase == nil ? "" : " churns=\(churns.load(ordering: .relaxed)) stolen=\(stolen.load(ordering: .relaxed))"))
}

while true {
    worker.chunk()
    answerRequests()
    let before = handlerRuns.load(ordering: .relaxed)
    switch waitMode {
    case .compute:
        break
    case .pause, .sigsuspend:
        // Returns only after a handler ran, with EINTR. Anything else means the
        // dump broke the restart of the interrupted call.
        let result = waitMode == .pause ? pause() : sigsuspend(&suspendMask)
        let error = errno
        waits += 1
        if result != -1 || error != EINTR { waitErrors += 1 }
        if handlerRuns.load(ordering: .relaxed) == before { spurious += 1 }
    case .altstack:
        let size = 256 * 1024
        var stack = stack_t(ss_sp: malloc(size), ss_flags: 0, ss_size: size)
        if sigaltstack(&stack, nil) != 0 { fail("sigaltstack: errno \(errno)") }
        var action = sigaction()
        action.__sigaction_handler = .init(sa_handler: { _ in
            while true {
                worker.chunk()
                answerRequests()
            }
        })
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_ONSTACK
        sigaction(SIGUSR2, &action, nil)
        var usr2 = sigset_t()
        sigemptyset(&usr2)
        sigaddset(&usr2, SIGUSR2)
        pthread_sigmask(SIG_UNBLOCK, &usr2, nil)
        raise(SIGUSR2)  // never returns
    case .nanosleep:
        var request = timespec(tv_sec: 1, tv_nsec: 0)
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let result = nanosleep(&request, nil)
        let error = errno
        clock_gettime(CLOCK_MONOTONIC, &end)
        waits += 1
        let elapsed = (end.tv_sec - start.tv_sec) * 1_000_000_000 + (end.tv_nsec - start.tv_nsec)
        if result == 0 {
            // Restarted through restart_syscall: the whole second must have passed.
            if elapsed < 999_000_000 { waitErrors += 1 }
        } else if error != EINTR {
            waitErrors += 1
        } else if handlerRuns.load(ordering: .relaxed) == before {
            spurious += 1
        }
    }
    answerRequests()
}
