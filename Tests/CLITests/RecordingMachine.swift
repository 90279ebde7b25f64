import ModelKernel
import TimerCore

/// A model machine that keeps the processes it hands out, so a test can look
/// into them after a restore (and see that all of a tree's share a machine).
final class RecordingMachine: TimerMachine {
    let model: ModelKernel
    private(set) var spawned: [ModelProcess] = []
    /// The machine `rebooted()` last handed out (a compare row's).
    private(set) var lastRebooted: RecordingMachine?

    init(_ model: ModelKernel) { self.model = model }

    var kernelName: String { model.kernelName }
    var consecutiveIDs: Bool { model.consecutiveIDs }
    var globalIDSpace: Bool { model.globalIDSpace }

    func spawnProcess(threads: Int) -> ModelProcess {
        let process = model.spawnProcess(threads: threads)
        spawned.append(process)
        return process
    }

    func rebooted() -> RecordingMachine {
        let fresh = RecordingMachine(model.rebooted())
        lastRebooted = fresh
        return fresh
    }
}
