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

    /// The limit text of a timer-criu/1 file for `readFile`'s messages.
    package static let fileLimitText = "the \(maximumFileSize >> 20) MiB a timer-criu/1 checkpoint may have"
}
