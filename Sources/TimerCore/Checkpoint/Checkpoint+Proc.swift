/// Two blocks of /proc/PID/timers with the same ID: the timer list changed
/// between two read()s (the kernel walks the list again for each page,
/// docs/kernel-facts.md section 1). Reading again gives a consistent list.
public struct DuplicateTimerID: Error, Equatable, Sendable, CustomStringConvertible {
    public var id: Int32
    public init(id: Int32) { self.id = id }
    public var description: String { "timer ID \(id) is listed twice (the timers changed while being read)" }
}

extension Checkpoint {
    /// The checkpoint of a process from what /proc shows of it: timers sorted
    /// by ID, and a warning for each timer that cannot be restored as it stands.
    ///
    /// - Parameters:
    ///   - threads: the tids under /proc/PID/task, main thread first.
    ///   - kernel: `uname -r` of the kernel the text was read on; 4.15 to 4.x
    ///     printed a hashed sival (docs/kernel-facts.md section 1).
    public init(pid: Int32, kernel: String, threads: [Int32], procTimers: [ProcTimer]) throws(DuplicateTimerID) {
        let hashedSival = Checkpoint.printsHashedSival(kernel: kernel)
        var timers = procTimers.map { proc in
            CheckpointTimer(id: proc.id, clockID: proc.clockID, signal: proc.signal, sigevValue: proc.sigevValue,
                            // `(null)` and unpadded hex predate hashing; they are exact.
                            sigevValueReliable: !(hashedSival && proc.sigevValueForm == .padded),
                            notify: proc.notify, notifyTarget: proc.notifyTarget)
        }
        timers.sort { $0.id < $1.id }
        for i in timers.indices.dropFirst() where timers[i].id == timers[i - 1].id {
            throw DuplicateTimerID(id: timers[i].id)
        }
        let threadSet = Set(threads)
        for i in timers.indices where timers[i].notify == .threadID && !threadSet.contains(timers[i].notifyTarget) {
            timers[i].notifyTargetExited = true
        }
        let warnings = Checkpoint.warnings(pid: pid, threads: threads, timers: timers)
        self.init(pid: pid, kernel: kernel, threads: threads, timers: timers, warnings: warnings)
    }

    /// glibc's internal SIGTIMER, used by its SIGEV_THREAD helper thread.
    public static let glibcSIGTIMER: Int32 = 32

    /// Warnings for timers that cannot be restored as they stand (docs/format.md
    /// lists them). `timers` sorted by ID; one line each, naming the timer.
    public static func warnings(pid: Int32, threads: [Int32], timers: [CheckpointTimer]) -> [String] {
        let threadSet = Set(threads)
        var warnings: [String] = []
        for timer in timers {
            var name: String { "timer \(timer.id)" }  // built only for a warning: 90,000 timers, few warnings
            if timer.notify == .threadID && timer.signal == glibcSIGTIMER {
                // docs/kernel-facts.md section 1: glibc's SIGEV_THREAD timers are this.
                warnings.append(
                    "\(name): looks like a glibc SIGEV_THREAD timer (signal 32 to helper thread \(timer.notifyTarget)); "
                        + "the helper thread and its callback belong to glibc and are not restored")
            }
            if timer.notify == .threadID && !threadSet.contains(timer.notifyTarget) {
                // docs/kernel-facts.md section 5: creating it as is fails with EINVAL.
                warnings.append(
                    "\(name): notify target thread \(timer.notifyTarget) is no longer a thread of process \(pid) "
                        + "(not under /proc/\(pid)/task); restoring it as is fails with EINVAL, so restore makes it "
                        + "SIGEV_NONE (--dead-thread-notify fail refuses it)")
            }
            if timer.clockID == .threadCPUTime && threads.count > 1 {
                // docs/kernel-facts.md section 4: -2 counts the creating thread, which /proc does not name.
                warnings.append(
                    "\(name): thread-cputime clock in a process with \(threads.count) threads; "
                        + "/proc does not say which thread's CPU time it counts")
            }
            if !timer.sigevValueReliable {
                warnings.append("\(name): sigev_value is a hashed pointer printed by this kernel, not the real value")
            }
            if let warning = restoreConsequence(of: timer, pid: pid, threads: threadSet) { warnings.append(warning) }
            if timer.valueNanoseconds == 0, let interval = timer.intervalNanoseconds, interval > 0 {
                // docs/kernel-facts.md 6: CRIU (and RestorePlan) arm such a timer with its interval.
                warnings.append("\(name): dumped with 0 ns left and an interval of \(interval) ns: restore arms it with the interval")
            }
            if let overrun = timer.overrun, overrun > 0 {
                warnings.append("\(name): overrun count \(overrun) is not restored on a real kernel (no syscall sets it; "
                    + "the model restores it)")
            }
        }
        return warnings
    }

    /// The warning for what RestorePlan refuses outright (besides a dead
    /// notify thread, which each reader words itself): a CPU clock counting a
    /// task that is neither the process nor one of its threads (e.g. -14,
    /// pid 1's), which only a tree restore holding that task can map.
    public static func restoreConsequence(of timer: CheckpointTimer, pid: Int32, threads: Set<Int32>) -> String? {
        guard let named = timer.clockID.cpuClockPID, named != 0, named != pid, !threads.contains(named) else { return nil }
        return "timer \(timer.id): clock \(timer.clockID.name) (\(timer.clockID.rawValue)) counts task \(named), "
            + "which is not process \(pid) or one of its threads: restore refuses it unless task \(named) is restored in the same tree"
    }

    /// Kernels 4.15 to 4.x print sival with a hashed `%p` (docs/kernel-facts.md section 1).
    public static func printsHashedSival(kernel: String) -> Bool {
        let parts = kernel.split(separator: ".", maxSplits: 2)
        guard parts.count >= 2, let major = Int(parts[0]),
              let minor = Int(parts[1].prefix(while: { $0.isNumber })) else { return false }
        return major == 4 && minor >= 15
    }
}
