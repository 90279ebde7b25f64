import TimerCore

/// Why `dump --values` failed: reading /proc or reading the values.
public enum DumpWithValuesError: Error, Equatable, Sendable, CustomStringConvertible {
    case proc(ProcReadError)
    case values(PtraceError)

    public var description: String {
        switch self {
        case let .proc(error): return error.description
        case let .values(error): return error.description
        }
    }
}

extension TimerValueReader {
    /// How many times `checkpointWithValues` lists the timers and reads them.
    public static let listingAttempts = 5

    /// `dump --values` of a live process: the checkpoint from /proc
    /// (`readCheckpoint`), then the values of its timers. A timer deleted
    /// between the listing and the injection answers EINVAL (docs/kernel-facts.md 5b);
    /// then the list is read again and the values again, up to `attempts`
    /// times in all, and `.timersKeptChanging` after that (exit 3). A process
    /// that only creates timers needs no retry: the checkpoint is the listing.
    public static func checkpointWithValues(
        pid: Int32, attempts: Int = listingAttempts, _ readCheckpoint: () throws(ProcReadError) -> Checkpoint
    ) throws(DumpWithValuesError) -> Checkpoint {
        var lastDeleted: Int32 = 0
        for _ in 0..<max(attempts, 1) {
            var checkpoint: Checkpoint
            do { checkpoint = try readCheckpoint() } catch { throw .proc(error) }
            do {
                try fillValues(of: &checkpoint)
            } catch {
                guard case let .syscallFailed(_, failure) = error, failure.errno == .EINVAL, let id = failure.timerID else {
                    throw .values(error)
                }
                lastDeleted = id
                continue
            }
            // The itimers and the timerfds' forwarded state, in a second stop.
            try OtherTimersReader.fill(&checkpoint)
            return checkpoint
        }
        throw .values(.timersKeptChanging(pid: pid, timerID: lastDeleted, attempts: attempts))
    }
}
