/// Nanoseconds as every output prints them: the largest unit that keeps the
/// figure readable, at most `decimals` decimals with trailing zeros dropped,
/// the units spelled ns, µs, ms, s, min, h. One implementation; the presets
/// differ only in precision and in how far up the units go.
public struct DurationText: Sendable {
    /// Decimals kept (rounded half up).
    public var decimals: Int
    /// Minutes between a minute and an hour.
    public var minutes: Bool
    /// Hours from an hour up.
    public var hours: Bool

    /// A timer's time left and interval as dumped, seconds the largest unit:
    /// "97.576 s", "12.5 ms", "3 µs", "750 ns" (inspect, axis labels).
    public static let exact = DurationText(decimals: 3, minutes: false, hours: false)
    /// Wall times and timer values in reports: "218.2 µs", "1.5 s", "2 h".
    public static let report = DurationText(decimals: 1, minutes: false, hours: true)
    /// Projected times, which run from nanoseconds to hours: "812 ns", "29.5 min", "3.1 h".
    public static let estimate = DurationText(decimals: 1, minutes: true, hours: true)

    public func callAsFunction(_ nanoseconds: Int64) -> String {
        let magnitude = nanoseconds.magnitude
        let sign = nanoseconds < 0 ? "-" : ""
        var units: [(size: UInt64, name: String)] = []
        if hours { units.append((3_600_000_000_000, "h")) }
        if minutes { units.append((60_000_000_000, "min")) }
        units += [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs")]
        for unit in units where magnitude >= unit.size {
            return sign + decimal(magnitude, per: unit.size) + " " + unit.name
        }
        return sign + "\(magnitude) ns"
    }

    /// A figure computed in floating point (a projection), rounded to whole
    /// nanoseconds; beyond Int64 it prints as 9e18 ns, NaN as "-".
    public func callAsFunction(rounding nanoseconds: Double) -> String {
        let rounded = nanoseconds.rounded()
        guard !rounded.isNaN else { return "-" }
        return self(Int64(max(min(rounded, 9e18), -9e18)))
    }

    /// `value / unit` with at most `decimals` decimals, trailing zeros dropped.
    func decimal(_ value: UInt64, per unit: UInt64) -> String {
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        var whole = value / unit
        // value % unit < unit <= 3.6e12, so this product cannot overflow.
        var fraction = (value % unit * scale + unit / 2) / unit
        if fraction == scale { whole += 1; fraction = 0 }
        guard fraction > 0 else { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: decimals - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
