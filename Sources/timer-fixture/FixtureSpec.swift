import TimerCore
import TimerFormats

/// Where a SIGEV_THREAD_ID timer is aimed.
enum NotifyThread: Equatable {
    /// The main thread (tid == pid).
    case main
    /// The Nth extra thread started by the fixture (1-based).
    case extra(Int)
    /// A thread started for this timer and ended right after it was created:
    /// /proc still lists the old tid (docs/kernel-facts.md section 5).
    case exited
}

/// One `TIMER` argument: `key=value` pairs separated by commas.
struct TimerSpec: Equatable {
    /// Create at this ID (prctl create-at-ID); nil: the next ID from the counter.
    var id: Int32?
    /// The clock passed to timer_create (process-cputime passes 2 and
    /// thread-cputime 3, as C code does; the kernel stores -6 and -2).
    var clock: ClockID = .monotonic
    /// nil: a NULL sigevent (SIGEV_SIGNAL, SIGALRM, sival = the ID).
    var sigevent: Sigevent? = Sigevent(.signal, signal: Sigevent.SIGALRM)
    var target: NotifyThread = .extra(1)
    var valueNanoseconds: Int64 = 0
    var intervalNanoseconds: Int64 = 0
    /// Create this many timers from the spec (IDs id, id+1, ... when id is set).
    var count = 1
    /// Delete each timer right after creating it: a hole in the IDs, also on
    /// kernels without create-at-ID (their counter does not go back).
    var deleted = false

    static let usage = """
        usage: timer-fixture [--threads N] [--main-exits] [--churn] [--block-signals] [--fork] TIMER...
          Creates POSIX timers on the real kernel exactly as told, blocks their
          signals, prints `thread TID` per extra thread, `timer ID` per timer,
          then `ready PID`, and waits until killed.
        TIMER is key=value pairs separated by commas:
          id=N           create at this ID (prctl PR_TIMER_CREATE_RESTORE_IDS + raw
                         timer_create); omitted: the next ID the kernel hands out
          clock=C        realtime, monotonic (default), boottime, tai,
                         realtime-alarm, boottime-alarm, process-cputime (passes 2),
                         thread-cputime (passes 3), cpu:pid=P:sched|prof|virt,
                         cpu:tid=T:..., or an integer
          notify=N       signal (default), none, thread, thread_id, or an integer
          signal=S       signal number, any int (default 14, SIGALRM)
          value=V        sigev value, 0x-hex or decimal, 64 bits (default 0)
          target=T       thread_id target: main, thread1 (default), thread2, ...,
                         or exited (a thread that ends after the create)
          sigevent=null  pass a NULL sigevent (the kernel picks SIGALRM, sival=ID)
          arm=D          arm with this value: 10s, 500ms, 250us, 1000ns or 1000
          interval=D     and this interval
          count=N        create N timers from this spec (IDs id, id+1, ...)
          delete=1       delete each right after creating it (leaves a hole in the
                         IDs where no create-at-ID exists, e.g. count=500,delete=1)
        --threads N      start N extra threads (default: as many as targets need)
        --block-signals  block every signal (timers armed into it later stay pending)
        --main-exits     after `ready`, the main thread calls pthread_exit: the
                         leader shows State Z while the other threads run on
        --churn          after `ready`, keep creating and deleting 64 timers at a
                         time (for dump --values against a changing timer list)
        --fork           before `ready`, fork a child that holds the same timerfds
                         (inherited: one open file each) and prints `child PID`
        --timerfd SPEC   also a timerfd: fd=N (from 3), clock=C, arm=D, interval=D,
                         abs=1 (TFD_TIMER_ABSTIME at now + arm), flags=nonblock+cloexec
        --itimer SPEC    also an interval timer: which=real|virtual|prof, arm=D,
                         interval=D (SIGALRM, SIGVTALRM, SIGPROF are blocked)
        """

    /// Parses `id=7,clock=boottime,...`; the error names the bad pair.
    init(parsing text: String) throws(FixtureError) {
        var notify: Int32 = NotifyMode.signal.sigevNotify
        var signal: Int32 = Sigevent.SIGALRM
        var value: UInt64 = 0
        var nullSigevent = false
        for (key, raw) in try keyValuePairs(text) {
            switch key {
            case "id":
                guard let n = Int32(raw), n >= 0 else { throw FixtureError.usage("id=\(raw): not 0...2147483647") }
                id = n
            case "clock":
                switch raw {
                case "process-cputime": clock = .processCPUTimeRequest
                case "thread-cputime": clock = .threadCPUTimeRequest
                default:
                    guard let c = ClockID(name: raw) else { throw FixtureError.usage("clock=\(raw): unknown clock") }
                    clock = c
                }
            case "notify":
                if let mode = NotifyMode(rawValue: raw) {
                    notify = mode.sigevNotify
                } else if let n = Int32(raw) {
                    notify = n
                } else {
                    throw FixtureError.usage("notify=\(raw): not signal, none, thread, thread_id or an integer")
                }
            case "signal":
                guard let n = Int32(raw) else { throw FixtureError.usage("signal=\(raw): not an integer") }
                signal = n
            case "value":
                let parsed = raw.hasPrefix("0x") ? UInt64(raw.dropFirst(2), radix: 16) : UInt64(raw)
                guard let v = parsed else { throw FixtureError.usage("value=\(raw): not a 64-bit hex or decimal value") }
                value = v
            case "target":
                if raw == "main" {
                    target = .main
                } else if raw == "exited" {
                    target = .exited
                } else if raw.hasPrefix("thread"), let n = Int(raw.dropFirst(6)), n >= 1 {
                    target = .extra(n)
                } else {
                    throw FixtureError.usage("target=\(raw): not main, threadN or exited")
                }
            case "sigevent":
                guard raw == "null" else { throw FixtureError.usage("sigevent=\(raw): only sigevent=null") }
                nullSigevent = true
            case "arm":
                valueNanoseconds = try Self.duration(raw, key: key)
            case "interval":
                intervalNanoseconds = try Self.duration(raw, key: key)
            case "count":
                guard let n = Int(raw), n >= 1 else { throw FixtureError.usage("count=\(raw): not a positive integer") }
                count = n
            case "delete":
                guard raw == "1" || raw == "0" else { throw FixtureError.usage("delete=\(raw): only delete=1 or delete=0") }
                deleted = raw == "1"
            default:
                throw FixtureError.usage("unknown key \"\(key)\"")
            }
        }
        sigevent = nullSigevent ? nil : Sigevent(notify: notify, signal: signal, value: value)
    }

    init() {}

    /// `10s`, `500ms`, `250us`, `1000ns` or a plain number of nanoseconds.
    static func duration(_ text: String, key: String) throws(FixtureError) -> Int64 {
        let units: [(String, Int64)] = [("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let n = Int64(text.dropLast(suffix.count)), n >= 0 { return n * scale }
            throw FixtureError.usage("\(key)=\(text): not a duration")
        }
        guard let n = Int64(text), n >= 0 else { throw FixtureError.usage("\(key)=\(text): not a duration") }
        return n
    }

    /// The timer is aimed at a thread (SIGEV_THREAD_ID is set).
    var usesThreadID: Bool {
        guard let sigevent else { return false }
        return sigevent.notify & NotifyMode.SIGEV_THREAD_ID != 0
    }
}

/// The fixture's failures: usage (exit 64) or a failed syscall (exit 1).
enum FixtureError: Error, CustomStringConvertible {
    case usage(String)
    case syscall(SyscallError)

    var description: String {
        switch self {
        case let .usage(problem): return problem
        case let .syscall(error): return error.description
        }
    }

    var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .syscall: return 1
        }
    }
}

/// `a=1,b=2` as ("a", "1"), ("b", "2"), in order; the error names the pair
/// without an `=`.
func keyValuePairs(_ text: String) throws(FixtureError) -> [(key: String, value: String)] {
    var pairs: [(key: String, value: String)] = []
    for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw FixtureError.usage("\"\(pair)\" is not key=value") }
        pairs.append((String(parts[0]), String(parts[1])))
    }
    return pairs
}
