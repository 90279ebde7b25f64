/// One call of a batch (`TimerKernel.perform`): the same syscalls as the
/// protocol's single calls, as data, so a kernel that pays per round trip (a
/// live process reached by injection) can make many in one.
public enum KernelCall: Hashable, Sendable {
    case timerCreate(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32)
    case timerDelete(Int32)
    case timerSettime(Int32, absolute: Bool, TimerValue)
    case timerGettime(Int32)
    case timerGetoverrun(Int32)
    case prctlRestoreIDs(RestoreIDsOperation)
}

/// What one call of a batch returned.
public enum KernelCallResult: Hashable, Sendable {
    /// timer_create: the ID; timer_getoverrun: the count; prctl: its return;
    /// timer_delete and timer_settime: 0.
    case value(Int64)
    /// timer_gettime.
    case time(TimerValue)
    case failed(KernelErrno)
    /// Skipped: an earlier call of a stop-on-error batch failed.
    case notRun

    public var failure: KernelErrno? { if case let .failed(e) = self { return e } else { return nil } }
    public var ran: Bool { self != .notRun }
}

extension TimerKernel {
    /// The single calls, one after the other: what every kernel without a
    /// cheaper way does (the model, the host helper).
    public func performOneByOne(_ calls: [KernelCall], stopOnError: Bool,
                                finally: [KernelCall]) -> (results: [KernelCallResult], finally: [KernelCallResult]) {
        var results: [KernelCallResult] = []
        results.reserveCapacity(calls.count)
        var failed = false
        for call in calls {
            if failed { results.append(.notRun); continue }
            let result = perform(call)
            if stopOnError, result.failure != nil { failed = true }
            results.append(result)
        }
        return (results, finally.map { perform($0) })
    }

    /// One call through the protocol's single calls.
    public func perform(_ call: KernelCall) -> KernelCallResult {
        do {
            switch call {
            case let .timerCreate(clock, sigevent, idBuffer):
                return .value(Int64(try timerCreate(clock: clock, sigevent: sigevent, idBuffer: idBuffer)))
            case let .timerDelete(id):
                try timerDelete(id)
                return .value(0)
            case let .timerSettime(id, absolute, value):
                try timerSettime(id, absolute: absolute, value)
                return .value(0)
            case let .timerGettime(id):
                return .time(try timerGettime(id))
            case let .timerGetoverrun(id):
                return .value(Int64(try timerGetoverrun(id)))
            case let .prctlRestoreIDs(op):
                return .value(Int64(try prctlRestoreIDs(op)))
            }
        } catch {
            return .failed(error)
        }
    }
}
