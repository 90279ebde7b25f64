/// One call of a timerfd batch (`TimerFDKernel.performTimerFD`): the
/// protocol's single timerfd and itimer calls as data, so the live-process
/// kernel makes a whole restore's worth in one stop of the target.
public enum TimerFDCall: Hashable, Sendable {
    /// timerfd_create(clock, flags): `.value(fd)`.
    case timerfdCreate(clock: ClockID, flags: UInt32)
    /// dup3(fd, target, O_CLOEXEC) or dup2(fd, target): `.value(target)`.
    case dup3(FDOperand, to: Int32, closeOnExec: Bool)
    case close(FDOperand)
    /// fcntl(fd, F_GETFD): `.value(flags)` (FD_CLOEXEC or 0) for an open fd, EBADF for a free number.
    case getFDFlags(Int32)
    /// timerfd_settime(fd, flags, value, &old): `.time(old)`.
    case timerfdSettime(Int32, flags: UInt32, TimerValue)
    /// timerfd_gettime(fd): `.time`.
    case timerfdGettime(Int32)
    /// ioctl(fd, TFD_IOC_SET_TICKS, &ticks).
    case timerfdSetTicks(Int32, UInt64)
    /// setitimer(which, value, &old): `.time(old)`.
    case setitimer(CheckpointITimers.Which, TimerValue)
    /// getitimer(which): `.time`.
    case getitimer(CheckpointITimers.Which)
}

/// An fd argument: a number, or the fd an earlier call of the same batch
/// returned (timerfd_create's, moved to its number by dup3 and close
/// without a round trip in between).
public enum FDOperand: Hashable, Sendable {
    case fd(Int32)
    /// What call `index` of the batch returned.
    case resultOf(call: Int)
}

/// One step of a timerfd batch.
public struct TimerFDStep: Hashable, Sendable {
    public var call: TimerFDCall
    /// If it fails, the following steps are not made (`.notRun`).
    public var stopsOnError: Bool

    public init(_ call: TimerFDCall, stopsOnError: Bool = true) {
        self.call = call
        self.stopsOnError = stopsOnError
    }
}

extension TimerFDKernel {
    /// The single calls, one after the other (the model, the host helper).
    public func performTimerFDOneByOne(_ steps: [TimerFDStep]) -> [KernelCallResult] {
        var results: [KernelCallResult] = []
        results.reserveCapacity(steps.count)
        var skipping = false
        for step in steps {
            if skipping { results.append(.notRun); continue }
            let result = perform(step.call, earlier: results)
            if step.stopsOnError, result.failure != nil { skipping = true }
            results.append(result)
        }
        return results
    }

    /// One call through the protocol's single calls; `earlier` resolves `.resultOf`.
    func perform(_ call: TimerFDCall, earlier: [KernelCallResult]) -> KernelCallResult {
        func fd(_ operand: FDOperand) throws(KernelErrno) -> Int32 {
            switch operand {
            case .fd(let fd): return fd
            case .resultOf(let index):
                guard index < earlier.count, case let .value(fd) = earlier[index] else { throw .EBADF }
                return Int32(truncatingIfNeeded: fd)
            }
        }
        do {
            switch call {
            case let .timerfdCreate(clock, flags):
                return .value(Int64(try timerfdCreate(clock: clock, flags: flags)))
            case let .dup3(from, target, closeOnExec):
                try dup3(try fd(from), to: target, closeOnExec: closeOnExec)
                return .value(Int64(target))
            case let .close(operand):
                try close(try fd(operand))
                return .value(0)
            case let .getFDFlags(number):
                return .value(Int64(try fdFlags(number)))
            case let .timerfdSettime(number, flags, value):
                return .time(try timerfdSettime(number, flags: flags, value))
            case let .timerfdGettime(number):
                return .time(try timerfdGettime(number))
            case let .timerfdSetTicks(number, ticks):
                try timerfdSetTicks(number, ticks)
                return .value(0)
            case let .setitimer(which, value):
                return .time(try setitimer(which, value))
            case let .getitimer(which):
                return .time(try getitimer(which))
            }
        } catch {
            return .failed(error)
        }
    }
}

extension TimerFDKernel {
    /// fcntl(fd, F_GETFD) succeeds: the number is taken.
    public func isOpen(_ fd: Int32) -> Bool { (try? fdFlags(fd)) != nil }
}

extension TimerFDSyscallCounts {
    /// Counts one call that was made (the reads are not counted).
    mutating func count(_ call: TimerFDCall) {
        switch call {
        case .timerfdCreate: timerfdCreate += 1
        case .dup3: dup2 += 1
        case .close: close += 1
        case .timerfdSettime: timerfdSettime += 1
        case .timerfdSetTicks: ioctl += 1
        case .setitimer: setitimer += 1
        case .getFDFlags, .timerfdGettime, .getitimer: break
        }
    }
}
