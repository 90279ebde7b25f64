#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress display on a terminal: IDs done, rate, time left.
public final class ProgressLine {
    let enabled: Bool
    let label: String
    let clock = MonotonicClock()
    var lastDraw: Int64 = -1_000_000_000
    var drawn = false

    public init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
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
        writeStandardError(line)
        drawn = true
    }

    public func finish() {
        if drawn { writeStandardError("\r\u{1b}[K") }
    }
}

/// Whether stderr is a terminal (progress lines are drawn only there).
public var standardErrorIsTerminal: Bool { isatty(2) != 0 }

func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
