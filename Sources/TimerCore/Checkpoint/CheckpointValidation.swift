/// The checks a checkpoint must pass before a restore touches any kernel
/// (model or host): what the reader accepts as well-formed but timer_create
/// would refuse with EINVAL or EOPNOTSUPP in every process. `CheckpointSource
/// .load(path:)` runs them, so every command refuses such a file up front,
/// exit 2, nothing created (docs/reliability.md).
extension Checkpoint {
    /// Throws the first problem, naming the timer like the reader does
    /// (`cp.json: timers[2] (id 7): signal 65 is outside 1...64 ...`).
    public func validate(path: String? = nil) throws(CheckpointError) {
        let threadSet = Set(threads)
        for (index, timer) in timers.enumerated() {
            let at = "timers[\(index)] (id \(timer.id))"
            // docs/kernel-facts.md 5: only SIGEV_NONE leaves the signal unchecked.
            if timer.notify != .none, !(1...64).contains(timer.signal) {
                throw CheckpointError(path: path,
                    "\(at).signal: \(timer.signal) is outside 1...64 (SIGRTMAX), which notify \(timer.notify.rawValue) needs: timer_create would fail with EINVAL")
            }
            if let refusal = Checkpoint.clockRefusal(timer.clockID) {
                throw CheckpointError(path: path, "\(at).clock_id: \(timer.clockID.rawValue) is \(refusal)")
            }
            // docs/kernel-facts.md 5: the tid must be a thread of the process. A target
            // the dump saw exit is marked notify_target_exited (and restored per
            // --dead-thread-notify); an unmarked stranger is a broken file.
            if timer.notify == .threadID, !timer.notifyTargetExited, !threadSet.contains(timer.notifyTarget) {
                throw CheckpointError(path: path,
                    "\(at).notify_target: thread \(timer.notifyTarget) is not among the checkpoint's threads [\(threads.map(String.init).joined(separator: ", "))] (and is not marked notify_target_exited)")
            }
        }
    }

    /// Why timer_create refuses `clock` in every process (docs/kernel-facts.md 2 and
    /// 4), or nil when some process can create a timer on it. The alarm clocks
    /// (8, 9) depend on CAP_WAKE_ALARM and an RTC and are left to the kernel;
    /// a CPU clock naming another task is checked by the restore plan.
    public static func clockRefusal(_ clock: ClockID) -> String? {
        switch clock.rawValue {
        case 0, 1, 7, 8, 9, 11: return nil
        // A checkpoint holds clocks as the kernel stored them; the kernel never
        // stores (so /proc never lists) the ids timer_create was passed for the
        // caller's CPU clocks. Such a file was written by hand or by a tool
        // that saved the request: it would restore as -6 or -2 and verify
        // against a clock it does not hold.
        case 2: return "CLOCK_PROCESS_CPUTIME_ID as passed to timer_create, which the kernel never lists: it stores it as -6 (process-cputime); write -6"
        case 3: return "CLOCK_THREAD_CPUTIME_ID as passed to timer_create, which the kernel never lists: it stores it as -2 (thread-cputime); write -2"
        case 4, 5, 6: return "\(clock.name), a clock without timers: timer_create would fail with EOPNOTSUPP"
        case 10, 12...: return "not a clock the kernel knows: timer_create would fail with EINVAL"
        default:
            if clock.isFDClock { return "a clock fd (dynamic POSIX clock), which has no timers: timer_create would fail with EOPNOTSUPP" }
            if clock.rawValue & 3 == 3 {
                return "a CPU clock of type 3, which does not exist: timer_create would fail with EINVAL"
            }
            return nil
        }
    }
}
