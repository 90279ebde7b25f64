/// `dump --from-proc-file`: a checkpoint from a saved copy of /proc/PID/timers
/// (as people paste into bug reports), without the process.
extension Checkpoint {
    public static let savedProcFileKernel = "unknown (saved /proc/PID/timers)"

    /// Reads and parses the file. `pid` names the process; without it, the pid
    /// most `signal`/`none`/`thread` timers notify. Every thread_id target is
    /// taken for a live thread (the file cannot say otherwise).
    public static func fromProcFile(path: String, pid: Int32?, files: some InputFiles) throws(CheckpointError) -> Checkpoint {
        let bytes = try files.read(path, limit: maximumProcFileSize,
            limitText: "the \(maximumProcFileSize >> 20) MiB a saved /proc/PID/timers may have (\(plannedTimers) timers)")
        var records: [ProcTimer]
        do { records = try ProcTimersParser.parse(bytes) } catch {
            throw CheckpointError(path: InputFile.displayName(path), "\(error)")
        }
        let inferred = inferredPID(records)
        guard let pid = pid ?? inferred else {
            throw CheckpointError(path: InputFile.displayName(path), "no timer names its process (only thread_id timers, or none): pass --pid N")
        }
        // What is written must load again: a pid or tid of 0
        // (a task outside the reader's pid namespace prints as 0) is none.
        guard pid >= 1 else {
            let first = records.first { $0.notify != .threadID && $0.notifyTarget == pid }
            throw CheckpointError(path: path, "timer \(first?.id ?? 0) notifies pid \(pid), which is not a process id (a process outside the reader's pid namespace?): pass --pid N")
        }
        if let zero = records.first(where: { $0.notify == .threadID && $0.notifyTarget < 1 }) {
            throw CheckpointError(path: path, "timer \(zero.id): thread_id target \(zero.notifyTarget) is not a thread id (1...2147483647)")
        }
        if let inferred, inferred != pid, pid > ClockID.maximumCPUClockPID,
           let clocked = records.first(where: { $0.clockID.cpuClockPID == inferred }) {
            throw CheckpointError(path: path, "--pid \(pid): timer \(clocked.id)'s CPU clock would have to name it, and a CPU clock id holds pids up to \(ClockID.maximumCPUClockPID)")
        }
        // --pid other than the pid the file names: the file's pid means the
        // process, wherever it appears (notify targets, its main thread,
        // CPU clocks), so it is rewritten everywhere, not only in "pid".
        var remapped: String?
        if let inferred, inferred != pid {
            var rewritten = 0
            for i in records.indices {
                var changed = false
                if records[i].notifyTarget == inferred { records[i].notifyTarget = pid; changed = true }
                if records[i].clockID.cpuClockPID == inferred {
                    records[i].clockID = records[i].clockID.withCPUClockPID(pid)
                    changed = true
                }
                if changed { rewritten += 1 }
            }
            remapped = "--pid \(pid): the saved file's timers belong to pid \(inferred); \(rewritten) timer(s) naming "
                + "\(inferred) (as notify target or CPU clock) are rewritten to name \(pid)"
        }
        let targets = Set(records.filter { $0.notify == .threadID && $0.notifyTarget != pid }.map(\.notifyTarget))
        let threads = [pid] + targets.sorted()
        do {
            var checkpoint = try Checkpoint(pid: pid, kernel: savedProcFileKernel, threads: threads, procTimers: records)
            if let remapped { checkpoint.warnings.insert(remapped, at: 0) }
            if !targets.isEmpty {
                let listed = targets.sorted().map(String.init).joined(separator: ", ")
                checkpoint.warnings.append((targets.count == 1 ? "thread \(listed) is" : "threads \(listed) are")
                    + " taken from thread_id targets of a saved file: whether "
                    + (targets.count == 1 ? "it was" : "they were") + " still alive is not known")
            }
            // And pass the checks every reader of it runs (a signal 0 to a
            // signal timer, a clock without timers).
            do { try checkpoint.validate() } catch {
                throw CheckpointError(path: path, "would become a checkpoint that restore refuses: \(error.problem)")
            }
            return checkpoint
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(path: InputFile.displayName(path), "\(error)")
        }
    }

    /// The pid most non-thread_id timers notify (ties: the lowest).
    static func inferredPID(_ records: [ProcTimer]) -> Int32? {
        var counts: [Int32: Int] = [:]
        for record in records where record.notify != .threadID { counts[record.notifyTarget, default: 0] += 1 }
        return counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
    }
}
