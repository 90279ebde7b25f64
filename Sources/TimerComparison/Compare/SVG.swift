import TimerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A hand-written SVG document: elements appended as text, no dependencies.
public struct SVGDocument {
    public var width: Double
    public var height: Double
    var elements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
        elements.append("<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>")
    }

    public var text: String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" \
        viewBox="0 0 \(n(width)) \(n(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">

        """ + elements.joined(separator: "\n") + "\n</svg>\n"
    }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#000000",
                              width: Double = 1, dash: String? = nil) {
        elements.append("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" "
            + "stroke-width=\"\(n(width))\"" + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String,
                              stroke: String? = nil, opacity: Double = 1, dash: String? = nil, title: String? = nil) {
        var element = "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(fill)\""
        if opacity < 1 { element += " fill-opacity=\"\(n(opacity))\"" }
        if let stroke { element += " stroke=\"\(stroke)\" stroke-width=\"1\"" }
        if let dash { element += " stroke-dasharray=\"\(dash)\"" }
        if let title { element += "><title>\(SVGDocument.escape(title))</title></rect>" } else { element += "/>" }
        elements.append(element)
    }

    public mutating func circle(_ cx: Double, _ cy: Double, r: Double, fill: String, stroke: String,
                                title: String? = nil) {
        var element = "<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.5\""
        if let title { element += "><title>\(SVGDocument.escape(title))</title></circle>" } else { element += "/>" }
        elements.append(element)
    }

    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        let list = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\""
            + " stroke-linejoin=\"round\"" + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
    }

    public enum Anchor: String { case start, middle, end }

    public mutating func text(_ x: Double, _ y: Double, _ string: String, size: Double = 12, anchor: Anchor = .start,
                              bold: Bool = false, fill: String = "#000000", rotate: Double? = nil) {
        var element = "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" fill=\"\(fill)\""
        if anchor != .start { element += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { element += " font-weight=\"bold\"" }
        if let rotate { element += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        element += ">\(SVGDocument.escape(string))</text>"
        elements.append(element)
    }

    public mutating func comment(_ text: String) {
        elements.append("<!-- " + text.replacing("--", with: "- -") + " -->")
    }

    /// Escapes text for XML content and attributes.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A coordinate with at most two decimals.
    func n(_ value: Double) -> String { SVGDocument.number(value) }

    static func number(_ value: Double) -> String {
        // A coordinate no axis covers (infinite, NaN, beyond 1e15 px) is drawn
        // at the edge of any real picture rather than trapping in Int64().
        guard value.isFinite else { return "0" }
        let value = min(max(value, -1e15), 1e15)
        let hundredths = (value * 100).rounded()
        if hundredths == hundredths.rounded(.towardZero), Int64(hundredths) % 100 == 0 { return String(Int64(hundredths / 100)) }
        return String(hundredths / 100)
    }
}

/// A log10 axis over whole decades, mapped onto pixels.
public struct LogAxis {
    public var lowDecade: Int
    public var highDecade: Int
    public var from: Double
    public var to: Double

    /// The decades covering `values` (> 0), at least one.
    /// `roomBelow`: start at least half a decade below the smallest value
    /// (for bars, so none is flat).
    public init(covering values: [Double], from: Double, to: Double, roomBelow: Bool = false,
                minimumDecade: Int? = nil) {
        // Only values a log10 can place (a denormal divided by 3 is 0, whose log is -inf).
        let positive = values.filter { $0.isFinite && $0 >= 1e-300 && $0 <= 1e300 }
        var low = Int(log10((positive.min() ?? 1) / (roomBelow ? 3 : 1)).rounded(.down))
        var high = Int(log10(positive.max() ?? 10).rounded(.up))
        if let minimumDecade { low = min(low, minimumDecade) }
        if high <= low { high = low + 1 }
        self.init(lowDecade: low, highDecade: high, from: from, to: to)
    }

    public init(lowDecade: Int, highDecade: Int, from: Double, to: Double) {
        self.lowDecade = lowDecade
        self.highDecade = highDecade
        self.from = from
        self.to = to
    }

    public func position(_ value: Double) -> Double {
        let clamped = max(value, pow(10, Double(lowDecade)))
        return from + (log10(clamped) - Double(lowDecade)) / Double(highDecade - lowDecade) * (to - from)
    }

    public var decades: ClosedRange<Int> { lowDecade...highDecade }

    /// "10" with the exponent in superscript digits: 10⁶.
    public static func powerOfTen(_ exponent: Int) -> String {
        if exponent == 0 { return "1" }
        if exponent == 1 { return "10" }
        let superscripts: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let digits = String(abs(exponent)).map { superscripts[Int(String($0))!] }
        return "10" + (exponent < 0 ? "⁻" : "") + String(digits)
    }

    /// 10^e nanoseconds in words: "100 ns", "1 µs", "10 s", "1000 s".
    public static func durationLabel(nanosecondsExponent e: Int) -> String {
        guard (0...18).contains(e) else { return "10^\(e) ns" }
        var nanoseconds: Int64 = 1
        for _ in 0..<e { nanoseconds *= 10 }
        return DurationText.exact(nanoseconds)
    }
}

/// Colors and names of the strategies in every picture.
enum StrategyStyle {
    static func color(_ strategy: RestoreStrategy) -> String {
        switch strategy {
        case .dance: return "#d62728"
        case .cursor: return "#1f77b4"
        case .createAtID: return "#2ca02c"
        case .auto: return "#9467bd"
        }
    }
}
