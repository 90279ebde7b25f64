import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// The value rules of a restore, on the model kernel with virtual time
/// (docs/kernel-facts.md sections 5b, 6): a one-shot timer fires once with its
/// remaining time; a periodic timer saved with value 0 is armed with its
/// interval; a disarmed timer stays disarmed; the model restores overruns.
final class RestoreValueRulesTests: XCTestCase {
    static let pid: Int32 = 500

    static func timer(_ id: Int32, value: Int64?, interval: Int64?, overrun: Int32? = nil,
                      notify: NotifyMode = .signal) -> CheckpointTimer {
        CheckpointTimer(id: id, clockID: .monotonic, signal: 14, sigevValue: UInt64(id), notify: notify,
                        notifyTarget: pid, valueNanoseconds: value, intervalNanoseconds: interval, overrun: overrun)
    }

    func restore(_ timers: [CheckpointTimer], strategy: RestoreStrategy = .createAtID)
        -> (ModelKernel, ModelProcess, RestoreReport)
    {
        let kernel = ModelKernel(profile: .linux615)
        let process = kernel.spawnProcess()
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "model", threads: [Self.pid], timers: timers)
        let report = Restorer.restore(checkpoint, into: process, options: .init(strategy: strategy))
        return (kernel, process, report)
    }

    static let second: Int64 = 1_000_000_000

    func testOneShotFiresOnceWithItsRemainingTime() throws {
        for strategy in [RestoreStrategy.dance, .createAtID] {
            let (_, process, report) = restore([Self.timer(3, value: 5 * Self.second, interval: 0)], strategy: strategy)
            XCTAssertTrue(report.ok, "\(strategy): \(report.error?.message ?? "")")
            XCTAssertEqual(try process.timerGettime(3), TimerValue(valueNanoseconds: 5 * Self.second, intervalNanoseconds: 0))
            XCTAssertEqual(report.timers.first?.valueNanoseconds, 5 * Self.second)
            process.advanceTime(byNanoseconds: 4 * Self.second)
            XCTAssertEqual(process.expiriesDelivered, 0, "not yet")
            XCTAssertEqual(try process.timerGettime(3).valueNanoseconds, Self.second)
            process.advanceTime(byNanoseconds: Self.second)
            XCTAssertEqual(process.expiriesDelivered, 1, "fires at its remaining time")
            XCTAssertEqual(try process.timerGettime(3), .disarmed)
            process.advanceTime(byNanoseconds: 60 * Self.second)
            XCTAssertEqual(process.expiriesDelivered, 1, "once")
        }
    }

    func testPeriodicKeepsValueAndInterval() throws {
        let (_, process, report) = restore([Self.timer(9, value: 300_000_000, interval: 2 * Self.second)])
        XCTAssertTrue(report.ok)
        XCTAssertEqual(try process.timerGettime(9), TimerValue(valueNanoseconds: 300_000_000, intervalNanoseconds: 2 * Self.second))
        process.advanceTime(byNanoseconds: 300_000_000)
        XCTAssertEqual(process.expiriesDelivered, 1)
        process.advanceTime(byNanoseconds: 2 * Self.second)
        XCTAssertEqual(process.expiriesDelivered, 2)
        // Two periods in one step: one delivery, the missed one is the overrun.
        process.advanceTime(byNanoseconds: 4 * Self.second)
        XCTAssertEqual(process.expiriesDelivered, 3)
        XCTAssertEqual(try process.timerGetoverrun(9), 1)
    }

    /// CRIU's rule: a periodic timer dumped with value 0 is armed with its interval.
    func testPeriodicWithValueZeroIsArmedWithItsInterval() throws {
        let (_, process, report) = restore([Self.timer(4, value: 0, interval: 2 * Self.second)])
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        XCTAssertEqual(try process.timerGettime(4), TimerValue(valueNanoseconds: 2 * Self.second, intervalNanoseconds: 2 * Self.second))
        XCTAssertEqual(report.syscalls.timerSettime, 1)
        process.advanceTime(byNanoseconds: 2 * Self.second)
        XCTAssertEqual(process.expiriesDelivered, 1)
        process.advanceTime(byNanoseconds: 2 * Self.second)
        XCTAssertEqual(process.expiriesDelivered, 2)
    }

    func testDisarmedStaysDisarmed() throws {
        let (_, process, report) = restore([Self.timer(2, value: 0, interval: 0), Self.timer(5, value: nil, interval: nil)])
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.syscalls.timerSettime, 0, "neither a disarmed nor a value-less timer is armed")
        XCTAssertEqual(try process.timerGettime(2), .disarmed)
        XCTAssertEqual(try process.timerGettime(5), .disarmed)
        process.advanceTime(byNanoseconds: 3600 * Self.second)
        XCTAssertEqual(process.expiriesDelivered, 0)
        XCTAssertEqual(report.timers.map(\.valueNanoseconds), [0, 0])
    }

    /// The model can set an overrun (no real kernel can): no "not restored" note.
    func testOverrunRestoredOnTheModel() throws {
        let (_, process, report) = restore([Self.timer(6, value: Self.second, interval: Self.second, overrun: 7),
                                            Self.timer(8, value: Self.second, interval: 0, overrun: 0)])
        XCTAssertTrue(report.ok)
        XCTAssertEqual(try process.timerGetoverrun(6), 7)
        XCTAssertEqual(try process.timerGetoverrun(8), 0)
        XCTAssertEqual(report.notes, [])
        XCTAssertEqual(report.timers.first { $0.id == 6 }?.overrun, 7)
        XCTAssertFalse(report.humanText.contains("not restored"))
    }

    /// The same values on every model profile whose strategy works.
    func testValueRulesAreTheSameForEveryStrategy() throws {
        let timers = [Self.timer(1, value: 7 * Self.second, interval: 0), Self.timer(2, value: 0, interval: Self.second),
                      Self.timer(40, value: 0, interval: 0)]
        var seen: [[TimerValue]] = []
        for strategy in [RestoreStrategy.dance, .createAtID] {
            let (_, process, report) = restore(timers, strategy: strategy)
            XCTAssertTrue(report.ok, "\(strategy)")
            seen.append(try [1, 2, 40].map { id throws(KernelErrno) in try process.timerGettime(id) })
        }
        XCTAssertEqual(seen[0], seen[1])
        XCTAssertEqual(seen[0], [TimerValue(valueNanoseconds: 7 * Self.second, intervalNanoseconds: 0),
                                 TimerValue(valueNanoseconds: Self.second, intervalNanoseconds: Self.second), .disarmed])
    }
}
