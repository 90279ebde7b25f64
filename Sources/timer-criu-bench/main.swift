// timer-criu-bench: the measurements behind Scripts/bench.sh and
// docs/performance.md. Each subcommand runs in a fresh process (the dance
// needs a timer ID counter at 0), measures one thing and prints one line of
// `key=value` pairs for the script. Release builds only: debug builds are
// 10-50x slower on the model.
#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import HostKernel
import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison

let usage = """
    usage: timer-criu-bench COMMAND ARG
      model-dance ID          CRIU's dance to ID on the linux-6.15 model (TimerCreation.dance)
      model-restore ID        the same dance through Restorer.restore (what `timer-criu restore` runs:
                              syscall counting, progress checks, verification)
      host-dance ID           the same dance on this kernel (HostKernel, raw syscalls)
      raw-dance ID            the dance as a bare create+delete syscall loop (reference)
      model-create-at-id N    create-at-ID restore of N sparse IDs on the model
      host-create-at-id N     the same on this kernel (TimerCreation.createAtID on HostKernel)
      bare-create-at-id N     prctl ON + N raw timer_create at the same IDs (reference)
      model-memory N          peak RSS growth of a model process holding N timers
      parse-proc-file FILE    /proc/PID/timers text -> checkpoint JSON on stdout (library path)
      sigq                    used/limit of this user's RLIMIT_SIGPENDING (SigQ)
      run CMD [ARG...]        runs CMD (stdout to /dev/null): its wall and CPU (user+sys) time
    The in-process figures give both wall time and this process's CPU time
    (ns_per_op and cpu_ns_per_op): on a shared machine the CPU time is the
    repeatable one.
    """

func fail(_ message: String) -> Never {
    fputs("timer-criu-bench: \(message)\n", stderr)
    exit(1)
}

func now() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

/// CPU time (user + system) of this process so far.
func cpuNow() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

/// Wall and CPU time of a piece of work.
struct Stopwatch {
    let wall = now()
    let cpu = cpuNow()
    /// (wall ns, cpu ns) since the start.
    var elapsed: (wall: Int64, cpu: Int64) { (now() - wall, cpuNow() - cpu) }
}

/// The per-operation figures of a result line.
func perOp(_ t: (wall: Int64, cpu: Int64), _ ops: Int, digits: Int = 1) -> [(String, String)] {
    let n = Double(max(1, ops))
    return [("ns_per_op", fixed(Double(t.wall) / n, digits)), ("cpu_ns_per_op", fixed(Double(t.cpu) / n, digits)),
            ("seconds", fixed(Double(t.wall) / 1e9, 3)), ("cpu_seconds", fixed(Double(t.cpu) / 1e9, 3))]
}

/// Prints the result line: `ns_per_op` is the figure, the rest context.
func report(_ pairs: [(String, String)]) {
    print(pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
}

func fixed(_ value: Double, _ digits: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}

/// VmHWM (peak resident set) in bytes.
func peakRSS() -> Int {
    guard let kib = HostFeatures.readStatus()?.peakResidentKiB else { fail("cannot read VmHWM from /proc/self/status") }
    return Int(kib) * 1024
}

/// SigQ: timers (queued signals) held by this user, and the limit.
func sigq() -> (used: Int, limit: Int) {
    guard let queue = HostFeatures.readStatus()?.signalQueue else { fail("cannot read SigQ from /proc/self/status") }
    return (Int(queue.queued), Int(queue.limit))
}

/// Waits (up to 10 minutes) until `count` more timers fit under
/// RLIMIT_SIGPENDING, which every root process shares (docs/kernel-facts.md
/// section 2); other tests may be holding thousands.
func waitForSignalQueue(_ count: Int) {
    let start = now()
    var said = false
    while true {
        let (used, limit) = sigq()
        if used + count + 100 <= limit { return }
        if !said {
            fputs("timer-criu-bench: waiting: SigQ \(used)/\(limit), need \(count) free\n", stderr)
            said = true
        }
        if now() - start > 600_000_000_000 { fail("SigQ stayed at \(used)/\(limit) for 10 minutes") }
        usleep(200_000)
    }
}

func number(_ text: String?) -> Int {
    guard let text, let n = Int(text), n >= 0, n <= Int(Int32.max) else {
        fail("expected a count or ID from 0 to 2147483647, got \(text ?? "nothing")\n\(usage)")
    }
    return n
}

// MARK: Plans

/// One timer at `id` (the dance's single wanted ID).
func checkpoint(ids: [Int32], pid: Int32) -> Checkpoint {
    let timers = ids.map {
        CheckpointTimer(id: $0, clockID: .monotonic, signal: Sigevent.SIGALRM, sigevValue: UInt64($0),
                        notify: .signal, notifyTarget: pid)
    }
    return Checkpoint(pid: pid, kernel: "bench", threads: [pid], timers: timers)
}

func plan<K: TimerKernel>(ids: [Int32], for kernel: K) -> RestorePlan {
    do {
        return try RestorePlan(checkpoint: checkpoint(ids: ids, pid: kernel.processID),
                               processID: kernel.processID, threadIDs: kernel.threadIDs)
    } catch {
        fail("plan: \(error)")
    }
}

/// N IDs spread over 0...INT_MAX (what a long-running process has), ascending.
func sparseIDs(_ n: Int) -> [Int32] {
    guard n > 0 else { return [] }
    let step = Int(Int32.max) / n
    return (0..<n).map { Int32($0 * step) }
}

// MARK: Measurements

func dance<K: TimerKernel>(to id: Int, on kernel: K) {
    let plan = plan(ids: [Int32(id)], for: kernel)
    let watch = Stopwatch()
    do {
        try TimerCreation.dance(plan, on: kernel)
    } catch {
        fail("dance to ID \(id): \(error)")
    }
    // Creates = ID + 1, deletes = ID: one pair per ID below the wanted one.
    report(perOp(watch.elapsed, id, digits: 2) + [("pairs", "\(id)"), ("kernel", kernel.kernelName.replacingSpaces())])
}

/// The dance as `timer-criu restore --strategy dance` makes it: through the
/// Restorer (CountingKernel, progress and cancel checks, verification).
func restoreDance(to id: Int) {
    let kernel = ModelKernel(profile: .linux615)
    let process = kernel.spawnProcess()
    let checkpoint = checkpoint(ids: [Int32(id)], pid: process.processID)
    let watch = Stopwatch()
    let restored = Restorer.restore(checkpoint, into: process, options: .init(
        strategy: .dance, control: RestoreControl(progress: { _, _ in }, isCancelled: { false })))
    let elapsed = watch.elapsed
    if let error = restored.error { fail("restore by dance to ID \(id): \(error)") }
    guard restored.syscalls.timerCreate == id + 1 else { fail("restore made \(restored.syscalls.timerCreate) creates") }
    report(perOp(elapsed, id, digits: 2) + [("pairs", "\(id)"), ("kernel", process.kernelName.replacingSpaces())])
}

func rawDance(to id: Int) {
    var expected: Int32 = 0
    let watch = Stopwatch()
    while true {
        var got: Int32 = 0
        if tc_timer_create(1, 0, 0, 0, 0, 0, &got) < 0 { fail("timer_create: \(KernelErrno(rawValue: errno).nameAndMessage)") }
        if Int(got) == id { break }
        if got != expected { fail("timer_create returned \(got), expected \(expected)") }
        if tc_timer_delete(got) < 0 { fail("timer_delete(\(got)): \(KernelErrno(rawValue: errno).nameAndMessage)") }
        expected = got &+ 1
    }
    report(perOp(watch.elapsed, id, digits: 2) + [("pairs", "\(id)")])
}

func createAtID<K: TimerKernel>(_ n: Int, on kernel: K) {
    let plan = plan(ids: sparseIDs(n), for: kernel)
    let watch = Stopwatch()
    do {
        try TimerCreation.createAtID(plan, on: kernel)
    } catch {
        fail("create-at-ID of \(n) timers: \(error)")
    }
    report(perOp(watch.elapsed, n) + [("timers", "\(n)"), ("kernel", kernel.kernelName.replacingSpaces())])
}

/// The floor for create-at-ID on this kernel: the syscalls and nothing else.
func bareCreateAtID(_ n: Int) {
    let ids = sparseIDs(n)
    let watch = Stopwatch()
    if tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_ON), 0, 0, 0) < 0 {
        fail("prctl(PR_TIMER_CREATE_RESTORE_IDS, ON): \(KernelErrno(rawValue: errno).nameAndMessage) (needs Linux 6.15+)")
    }
    for wanted in ids {
        var id = wanted
        if tc_timer_create(1, 1, 0, Sigevent.SIGALRM, UInt64(wanted), 0, &id) < 0 {
            fail("timer_create(id=\(wanted)): \(KernelErrno(rawValue: errno).nameAndMessage)")
        }
    }
    _ = tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_OFF), 0, 0, 0)
    report(perOp(watch.elapsed, n) + [("timers", "\(n)")])
}

/// Peak RSS growth while one model process creates N timers at sparse IDs
/// (create-at-ID, so the hash table holds them all).
func modelMemory(_ n: Int) {
    let kernel = ModelKernel(profile: .linux615, sigpendingLimit: n + 1)
    let process = kernel.spawnProcess()
    let ids = sparseIDs(n)
    let sigevent = Sigevent(.signal, signal: Sigevent.SIGALRM)
    let before = peakRSS()
    let idsBytes = ids.count * 4   // the input array, allocated before `before`
    do {
        try process.prctlRestoreIDs(.on)
        for id in ids { _ = try process.timerCreate(clock: .monotonic, sigevent: sigevent, idBuffer: id) }
    } catch {
        fail("model create: \(error)")
    }
    let after = peakRSS()
    precondition(process.liveTimerCount == n)
    report([("bytes_per_timer", fixed(Double(after - before) / Double(max(1, n)), 1)), ("timers", "\(n)"),
            ("peak_rss_delta", "\(after - before)"), ("storage_bytes", "\(process.timerStorageBytes)"),
            ("input_bytes", "\(idsBytes)")])
    withExtendedLifetime(process) {}
}

/// What `dump --from-proc-file` does, through the same library calls: the
/// file read into one buffer of its size, parsed, made a checkpoint, written.
func parseProcFile(_ path: String) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("\(path): cannot open: \(KernelErrno(rawValue: errno).nameAndMessage)") }
    var info = stat()
    guard fstat(fd, &info) == 0 else { fail("\(path): fstat: \(KernelErrno(rawValue: errno).nameAndMessage)") }
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
    var count = 0
    while count < bytes.count {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        count += n
    }
    close(fd)
    bytes.removeLast(bytes.count - count)
    do {
        let records = try ProcTimersParser.parse(bytes)
        let checkpoint = try Checkpoint(pid: 1, kernel: "unknown", threads: [1], procTimers: records)
        checkpoint.writeJSON { chunk in
            var offset = 0
            while offset < chunk.count {
                let n = write(1, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { fail("write: \(KernelErrno(rawValue: errno).nameAndMessage)") }
                offset += n
            }
        }
    } catch {
        fail("\(path): \(error)")
    }
}

/// Runs a command with stdout on /dev/null; its wall time, and its CPU time
/// (user + system, from wait4's rusage).
func runCommand(_ argv: [String]) {
    guard !argv.isEmpty else { fail(usage) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    var pid: pid_t = 0
    let start = now()
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, &cArguments, environ)
    guard rc == 0 else { fail("\(argv[0]): posix_spawn: \(KernelErrno(rawValue: rc).nameAndMessage)") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { fail("wait4: \(KernelErrno(rawValue: errno).nameAndMessage)") }
    }
    let wall = now() - start
    guard status == 0 else { fail("\(argv.joined(separator: " ")): exit status \(status)") }
    func micros(_ t: timeval) -> Int { t.tv_sec * 1_000_000 + Int(t.tv_usec) }
    report([("wall_us", "\(wall / 1000)"), ("cpu_us", "\(micros(usage.ru_utime) + micros(usage.ru_stime))"),
            ("max_rss_kb", "\(usage.ru_maxrss)")])
}

extension String {
    func replacingSpaces() -> String { String(map { $0 == " " ? "_" : $0 }) }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail(usage) }
let argument = arguments.count > 1 ? arguments[1] : nil
setvbuf(stdout, nil, _IOFBF, 1 << 16)
switch command {
case "model-dance":
    let id = number(argument)
    let kernel = ModelKernel(profile: .linux615)
    dance(to: id, on: kernel.spawnProcess())
case "model-restore":
    restoreDance(to: number(argument))
case "host-dance":
    dance(to: number(argument), on: HostKernel())
case "raw-dance":
    rawDance(to: number(argument))
case "model-create-at-id":
    let n = number(argument)
    let kernel = ModelKernel(profile: .linux615, sigpendingLimit: n + 1)
    createAtID(n, on: kernel.spawnProcess())
case "host-create-at-id":
    let n = number(argument)
    waitForSignalQueue(n)
    createAtID(n, on: HostKernel())
case "bare-create-at-id":
    let n = number(argument)
    waitForSignalQueue(n)
    bareCreateAtID(n)
case "model-memory":
    modelMemory(number(argument))
case "parse-proc-file":
    guard let argument else { fail(usage) }
    parseProcFile(argument)
case "run":
    runCommand(Array(arguments.dropFirst()))
case "sigq":
    let (used, limit) = sigq()
    report([("used", "\(used)"), ("limit", "\(limit)")])
case "-h", "--help":
    print(usage)
default:
    fail("unknown command \(command)\n\(usage)")
}
fflush(stdout)
