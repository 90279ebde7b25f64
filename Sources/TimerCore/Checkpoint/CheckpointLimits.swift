/// How large the files timer-criu reads may be, and the same limits on what
/// it writes: nothing it writes is refused when read back (docs/reliability.md).
extension Checkpoint {
    /// The most timers a checkpoint is made for: 2^20 = 1,048,576 (a real
    /// process reaches about 96,000 under the default RLIMIT_SIGPENDING).
    public static let plannedTimers = 1 << 20

    /// The longest line one timer can take in a `timer-criu/1` file: every
    /// field present at its longest (ID 2147483647, clock:-2147483648,
    /// 20-digit times ...) is 357 bytes with its ",\n    ".
    public static let maximumTimerLineBytes = 360

    /// A `timer-criu/1` file may have 512 MiB: `plannedTimers` lines of
    /// `maximumTimerLineBytes` (360 MiB) and 152 MiB for threads and warnings.
    /// A typical dump line is 140 bytes, so 3.8 M timers fit. `dump` refuses
    /// to write a larger one; restore, inspect and compare refuse to read it.
    public static let maximumFileSize = 512 << 20

    /// A saved /proc/PID/timers may have 128 MiB: `plannedTimers` blocks of
    /// at most 110 bytes (ID 2147483647, signal -2147483648/ and 16 hex
    /// digits, thread/tid.2147483647, ClockID -2147483648: 101 bytes) are
    /// 110 MiB. A real 1,000,000-timer copy is 74 MB.
    public static let maximumProcFileSize = 128 << 20

    /// Refuses, before anything is written, a checkpoint whose JSON text is
    /// more than a reader accepts (`path`: where it was to go, for the message).
    /// Cheap for every real dump: the text is only built when an upper bound
    /// of its size passes the limit.
    public func checkWritable(path: String?) throws(CheckpointError) {
        let bound = 1024 + kernel.utf8.count * 6 + threads.count * 12 + timers.count * Self.maximumTimerLineBytes
            + warnings.reduce(0) { $0 + 8 + $1.utf8.count * 6 }  // an escaped byte takes at most 6
        guard bound > Self.maximumFileSize else { return }
        let byteCount = jsonBytes().count
        guard byteCount <= Self.maximumFileSize else {
            throw CheckpointError(path: path, "the checkpoint of \(timers.count) timers would be \(byteCount) bytes, more than the \(Self.maximumFileSize >> 20) MiB a timer-criu/1 file may have (timer-criu could not read it back): nothing written")
        }
    }

    /// The limit text of a timer-criu/1 file for `readFile`'s messages.
    static let fileLimitText = "the \(maximumFileSize >> 20) MiB a timer-criu/1 checkpoint may have"
}
