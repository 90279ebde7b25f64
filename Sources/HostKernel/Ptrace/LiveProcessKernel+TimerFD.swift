#if canImport(Glibc)
import Glibc
#endif
import TimerCore

/// timerfds and itimers of a live process, made by the process itself: a
/// batch of them (`performTimerFD`) is one stop of the target, the fd a
/// timerfd_create returns passed on to the dup3 and close that move it
/// inside the target (SyscallBatch's result arguments).
extension LiveProcessKernel: TimerFDKernel {
    // x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl).
    enum FDNumber {
        static let close = 3, ioctl = 16, dup2 = 33, getitimer = 36, setitimer = 38, fcntl = 72
        static let timerfdCreate = 283, timerfdSettime = 286, timerfdGettime = 287, dup3 = 292
    }
    /// _IOW('T', 0, u64) (include/uapi/linux/timerfd.h).
    static let TFD_IOC_SET_TICKS: UInt64 = 0x4008_5400

    public func performTimerFD(_ steps: [TimerFDStep]) -> [KernelCallResult] {
        guard !steps.isEmpty else { return [] }
        var batch = SyscallBatch()
        var decoders: [(SyscallBatch) -> KernelCallResult] = []
        decoders.reserveCapacity(steps.count)
        for step in steps { decoders.append(add(step, to: &batch)) }
        do {
            try session.run(&batch)
        } catch {
            injectionError = error
            return steps.map { _ in .failed(.EIO) }
        }
        return decoders.map { $0(batch) }
    }

    private func add(_ step: TimerFDStep, to batch: inout SyscallBatch) -> (SyscallBatch) -> KernelCallResult {
        let stop = step.stopsOnError
        func fd(_ operand: FDOperand) -> Argument {
            switch operand {
            case .fd(let fd): return .int(Int64(fd))
            case .resultOf(let index): return .result(ofCall: index)
            }
        }
        let plain = Self.plainResult
        switch step.call {
        case let .timerfdCreate(clock, flags):
            return plain(batch.add(FDNumber.timerfdCreate, [.int(Int64(clock.rawValue)), .value(UInt64(flags))], stopOnError: stop))
        case let .dup3(from, target, closeOnExec):
            // dup2 clears FD_CLOEXEC on the new fd; dup3 with O_CLOEXEC keeps it.
            if closeOnExec {
                return plain(batch.add(FDNumber.dup3, [fd(from), .int(Int64(target)), .value(UInt64(O_CLOEXEC))], stopOnError: stop))
            }
            return plain(batch.add(FDNumber.dup2, [fd(from), .int(Int64(target))], stopOnError: stop))
        case let .close(operand):
            return plain(batch.add(FDNumber.close, [fd(operand)], stopOnError: stop))
        case let .getFDFlags(number):
            return plain(batch.add(FDNumber.fcntl, [.int(Int64(number)), .value(UInt64(F_GETFD))], stopOnError: stop))
        case let .timerfdSettime(number, flags, value):
            let new = batch.block(Self.itimerspec(value))
            let old = batch.block(bytes: 32)
            let index = batch.add(FDNumber.timerfdSettime, [.int(Int64(number)), .value(UInt64(flags)), .block(new), .block(old)],
                                  stopOnError: stop)
            return Self.timeResult(index, old, microseconds: false)
        case let .timerfdGettime(number):
            let slot = batch.block(bytes: 32)
            return Self.timeResult(batch.add(FDNumber.timerfdGettime, [.int(Int64(number)), .block(slot)], stopOnError: stop), slot,
                         microseconds: false)
        case let .timerfdSetTicks(number, ticks):
            let slot = batch.block(ticks)
            return plain(batch.add(FDNumber.ioctl, [.int(Int64(number)), .value(Self.TFD_IOC_SET_TICKS), .block(slot)],
                                   stopOnError: stop))
        case let .setitimer(which, value):
            // struct itimerval: it_interval then it_value, each tv_sec and tv_usec.
            let new = batch.block((value.intervalNanoseconds / 1_000_000_000, value.intervalNanoseconds % 1_000_000_000 / 1000,
                                   value.valueNanoseconds / 1_000_000_000, value.valueNanoseconds % 1_000_000_000 / 1000))
            let old = batch.block(bytes: 32)
            let index = batch.add(FDNumber.setitimer, [.int(Int64(which.rawValue)), .block(new), .block(old)], stopOnError: stop)
            return Self.timeResult(index, old, microseconds: true)
        case let .getitimer(which):
            let slot = batch.block(bytes: 32)
            return Self.timeResult(batch.add(FDNumber.getitimer, [.int(Int64(which.rawValue)), .block(slot)], stopOnError: stop), slot,
                         microseconds: true)
        }
    }

    private func one(_ call: TimerFDCall) -> KernelCallResult {
        performTimerFD([TimerFDStep(call, stopsOnError: false)])[0]
    }

    // MARK: single calls (each one stop of the target)

    public func timerfdCreate(clock: ClockID, flags: UInt32) throws(KernelErrno) -> Int32 {
        Int32(truncatingIfNeeded: try value(one(.timerfdCreate(clock: clock, flags: flags))))
    }

    public func dup3(_ fd: Int32, to target: Int32, closeOnExec: Bool) throws(KernelErrno) {
        _ = try value(one(.dup3(.fd(fd), to: target, closeOnExec: closeOnExec)))
    }

    public func close(_ fd: Int32) throws(KernelErrno) { _ = try value(one(.close(.fd(fd)))) }

    public func fdFlags(_ fd: Int32) throws(KernelErrno) -> Int32 {
        Int32(truncatingIfNeeded: try value(one(.getFDFlags(fd))))
    }

    @discardableResult
    public func timerfdSettime(_ fd: Int32, flags: UInt32, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        try time(one(.timerfdSettime(fd, flags: flags, value)))
    }

    public func timerfdGettime(_ fd: Int32) throws(KernelErrno) -> TimerValue { try time(one(.timerfdGettime(fd))) }

    public func timerfdSetTicks(_ fd: Int32, _ ticks: UInt64) throws(KernelErrno) {
        _ = try value(one(.timerfdSetTicks(fd, ticks)))
    }

    @discardableResult
    public func setitimer(_ which: CheckpointITimers.Which, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        try time(one(.setitimer(which, value)))
    }

    public func getitimer(_ which: CheckpointITimers.Which) throws(KernelErrno) -> TimerValue {
        try time(one(.getitimer(which)))
    }

    /// /proc/PID/task/TID/fdinfo/FD of the injected thread: the process's fd
    /// table, also when its main thread has exited (then /proc/PID/fdinfo is empty).
    public func readFDInfo(_ fd: Int32) throws -> [UInt8] {
        try HostKernel.readFile("/proc/\(processID)/task/\(injectedThread)/fdinfo/\(fd)")
    }

    /// prlimit64 on the target from outside: it needs no stop.
    public func fdLimit() throws(KernelErrno) -> FDLimit { try HostKernel.fdLimit(of: processID) }
    public func setFDLimit(_ limit: FDLimit) throws(KernelErrno) { try HostKernel.setFDLimit(limit, of: processID) }

    /// The target runs on this machine: its clocks are ours.
    public func clockNow(_ clock: ClockID) -> Int64 { HostKernel.clockNow(clock) }
}
