import TimerCore
/// Runs a simulate script on any `TimerKernel`: the model and the host run
/// the same code, so their outputs can be compared line by line.
public enum SimulationRunner {
    /// Makes each call in order and hands `emit` exactly one line per call
    /// (`sleep` too, 0 as nanosleep returns): the result (an ID, 0, prctl's value, `V P` for
    /// gettime, the overrun count) or the errno name.
    public static func run<Kernel: TimerKernel>(_ script: SimulationScript, on kernel: Kernel,
                                                emit: (String) -> Void) {
        for line in script.lines {
            emit(perform(line.call, on: kernel))
        }
    }

    /// One call's line.
    public static func perform<Kernel: TimerKernel>(_ call: SimulationCall, on kernel: Kernel) -> String {
        do {
            switch call {
            case .create(let clock, let spec, let idBuffer):
                var sigevent: Sigevent?
                if let spec {
                    let tid: Int32
                    switch spec.target {
                    case .thread(let k): tid = kernel.threadIDs[k]
                    case .raw(let t): tid = t
                    }
                    sigevent = Sigevent(notify: spec.notify, signal: spec.signal, value: spec.value, threadID: tid)
                }
                return String(try kernel.timerCreate(clock: clock, sigevent: sigevent, idBuffer: idBuffer))
            case .delete(let id):
                try kernel.timerDelete(id)
                return "0"
            case .settime(let id, let value, let absolute):
                try kernel.timerSettime(id, absolute: absolute, value)
                return "0"
            case .gettime(let id):
                let value = try kernel.timerGettime(id)
                return "\(value.valueNanoseconds) \(value.intervalNanoseconds)"
            case .getoverrun(let id):
                return String(try kernel.timerGetoverrun(id))
            case .prctl(let op):
                return String(try kernel.prctlRestoreIDs(op))
            case .cursor(let id):
                try kernel.writeTimerIDCursor(id)
                return "0"
            case .sleep(let nanoseconds):
                kernel.advanceTime(byNanoseconds: nanoseconds)
                return "0"
            }
        } catch {
            return error.name
        }
    }
}
