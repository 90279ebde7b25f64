/// `dump --from-proc-file`: a checkpoint from a saved copy of /proc/PID/timers
/// (as people paste into bug reports), without the process.
extension Checkpoint {
    public static let savedProcFileKernel = "unknown (saved /proc/PID/timers)"

    /// Reads and parses the file. `pid` names the process; without it, the pid
    /// most `signal`/`none`/`thread` timers notify. Every thread_id target is
    /// taken for a live thread (the file cannot say otherwise).
    public static func fromProcFile(path: String, pid: Int32?) throws(CheckpointError) -> Checkpoint {
        let bytes = try CRIUImageDirectory.readFile(path)
        let records: [ProcTimer]
        do { records = try ProcTimersParser.parse(bytes) } catch {
            throw CheckpointError(path: CheckpointSource.displayName(path), "\(error)")
        }
        guard let pid = pid ?? inferredPID(records) else {
            throw CheckpointError(path: CheckpointSource.displayName(path), "no timer names its process (only thread_id timers, or none): pass --pid N")
        }
        let targets = Set(records.filter { $0.notify == .threadID && $0.notifyTarget != pid }.map(\.notifyTarget))
        let threads = [pid] + targets.sorted()
        do {
            var checkpoint = try Checkpoint(pid: pid, kernel: savedProcFileKernel, threads: threads, procTimers: records)
            if !targets.isEmpty {
                checkpoint.warnings.append("threads \(targets.sorted().map(String.init).joined(separator: ", ")) "
                    + "are taken from thread_id targets of a saved file: whether they were still alive is not known")
            }
            return checkpoint
        } catch {
            throw CheckpointError(path: CheckpointSource.displayName(path), "\(error)")
        }
    }

    /// The pid most non-thread_id timers notify (ties: the lowest).
    static func inferredPID(_ records: [ProcTimer]) -> Int32? {
        var counts: [Int32: Int] = [:]
        for record in records where record.notify != .threadID { counts[record.notifyTarget, default: 0] += 1 }
        return counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
    }
}
