/// Compares what /proc/PID/timers shows after a restore with the plan.
public struct Verification: Sendable, Equatable {
    /// One line per difference, e.g. "timer 7: signal 40, expected 41".
    public var differences: [String]
    /// Timers shown that the plan does not have, when they are allowed
    /// (restore --into: the target's own timers).
    public var others: [Int32] = []
    public var matches: Bool { differences.isEmpty }

    /// `shown` is the parsed /proc/PID/timers of the restored process.
    /// With `othersAllowed`, timers not in the plan are listed in `others`
    /// instead of counted as differences.
    public init(plan: RestorePlan, shown: [ProcTimer], othersAllowed: Bool = false) {
        var differences: [String] = []
        var byID: [Int32: ProcTimer] = [:]
        byID.reserveCapacity(shown.count)
        for timer in shown {
            if byID.updateValue(timer, forKey: timer.id) != nil {
                differences.append("timer \(timer.id): listed twice")
            }
        }
        for planned in plan.timers {
            guard let got = byID.removeValue(forKey: planned.id) else {
                differences.append("timer \(planned.id): missing")
                continue
            }
            let want = planned.expected
            func check<T: Equatable>(_ name: String, _ value: T, _ expected: T) {
                if value != expected { differences.append("timer \(planned.id): \(name) \(value), expected \(expected)") }
            }
            check("clock", got.clockID.rawValue, want.clockID.rawValue)
            check("signal", got.signal, want.signal)
            check("notify", got.notify.rawValue, want.notify.rawValue)
            check("notify target", got.notifyTarget, want.notifyTarget)
            if got.sigevValueForm == .padded || got.sigevValueForm == .null || want.sigevValue != 0 {
                check("sigev_value", CheckpointTimer.hex(got.sigevValue), CheckpointTimer.hex(want.sigevValue))
            }
        }
        if othersAllowed {
            others = byID.keys.sorted()
        } else {
            for extra in byID.keys.sorted() {
                differences.append("timer \(extra): not in the checkpoint (created by someone else?)")
            }
        }
        self.differences = differences
    }
}

extension CheckpointTimer {
    /// "0x" and 16 lowercase hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}
