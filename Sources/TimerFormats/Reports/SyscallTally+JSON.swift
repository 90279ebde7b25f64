import TimerCore

extension SyscallTally {
    /// The `syscalls` (and `timerfd_syscalls`) object of every JSON output:
    /// the listed counters and their `total`.
    public var json: JSONOutput {
        .object(Self.listed.map { (key: $0.name, value: .integer(self[keyPath: $0.count])) }
            + [(key: "total", value: .integer(total))])
    }
}

extension RestoreFailure {
    /// `{"code": ..., "message": ...}`, the `error` of reports and compare rows.
    public var json: JSONOutput {
        .object([("code", .string(code.rawValue)), ("message", .string(message))])
    }
}
