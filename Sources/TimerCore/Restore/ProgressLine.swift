/// A one-line progress display on a terminal: IDs done, rate, time left.
/// It only composes the text; `draw` puts it on the terminal (HostKernel's
/// `ProgressLine.onStandardError` draws on stderr when that is a terminal).
public final class ProgressLine {
    let enabled: Bool
    let label: String
    let draw: (String) -> Void
    let clock = MonotonicClock()
    var lastDraw: Int64 = -1_000_000_000
    var drawn = false

    public init(enabled: Bool, label: String, draw: @escaping (String) -> Void) {
        self.enabled = enabled
        self.label = label
        self.draw = draw
    }

    public func update(done: Int64, total: Int64) {
        guard enabled else { return }
        let now = clock.elapsed
        guard now - lastDraw >= 250_000_000 || done == total else { return }
        lastDraw = now
        let seconds = Double(now) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let percent = total > 0 ? Double(done) * 100 / Double(total) : 100
        let line = "\r\(label): ID \(done) of \(total) (\(Int(percent))%), \(Int(rate)) IDs/s, "
            + "\(DurationText.report(rounding: left * 1e9)) left, Ctrl-C stops\u{1b}[K"
        draw(line)
        drawn = true
    }

    public func finish() {
        if drawn { draw("\r\u{1b}[K") }
    }
}
