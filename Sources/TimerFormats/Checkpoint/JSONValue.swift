import TimerCore
/// A parsed JSON document, kept close to the text: numbers stay as their
/// literal so that 2147483648 or 1.5 can be refused exactly where an Int32 is
/// wanted, and objects keep their key order. Used to read checkpoints with
/// errors that name the field (`timers[3].id: ...`); no Foundation.
public indirect enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, e.g. "-6" or "1.5e3".
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Key order as in the text; duplicate keys are refused by the parser.
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case let .bool(b): hasher.combine(b)
        case let .number(n): hasher.combine(n)
        case let .string(s): hasher.combine(s)
        case let .array(a): hasher.combine(a)
        case let .object(o):
            for (k, v) in o { hasher.combine(k); hasher.combine(v) }
        }
    }

    /// The value of `key` in an object, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    /// What kind of value this is, for messages ("a string", "an object").
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// An integer number with no fraction or exponent, as Int64; nil otherwise.
    public var integer: Int64? {
        guard case let .number(text) = self else { return nil }
        return Int64(text)
    }
}

/// A JSON syntax error with its 1-based line and column.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var problem: String
    public var description: String { "line \(line), column \(column): \(problem)" }
}

extension JSONValue {
    /// Nesting deeper than this is refused (a checkpoint needs 3 levels).
    public static let maximumDepth = 64

    /// Parses one JSON document (RFC 8259); whitespace may surround it.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) in
            var parser = JSONParser(buffer: buffer)
            parser.skipWhitespace()
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.position == buffer.count else { throw parser.error("unexpected text after the document") }
            return value
        }
    }
}

struct JSONParser {
    let buffer: UnsafeBufferPointer<UInt8>
    var position = 0

    func error(_ problem: String) -> JSONSyntaxError {
        var line = 1
        var column = 1
        for i in 0..<min(position, buffer.count) {
            if buffer[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return JSONSyntaxError(line: line, column: column, problem: problem)
    }

    mutating func skipWhitespace() {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x09, 0x0a, 0x0d: position += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < JSONValue.maximumDepth else { throw error("nested more than \(JSONValue.maximumDepth) levels") }
        guard position < buffer.count else { throw error("unexpected end of the text") }
        switch buffer[position] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character \(describe(buffer[position]))")
        }
    }

    func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7f ? "\"\(Character(Unicode.Scalar(byte)))\"" : "0x\(String(byte, radix: 16))"
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let ok: Bool = word.withUTF8Buffer { w in
            guard buffer.count - position >= w.count else { return false }
            for i in 0..<w.count where buffer[position + i] != w[i] { return false }
            return true
        }
        guard ok else { throw error("invalid literal (expected \(word))") }
        position += word.utf8CodeUnitCount
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var members: [(String, JSONValue)] = []
        var keys = Set<String>()
        skipWhitespace()
        if position < buffer.count && buffer[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < buffer.count, buffer[position] == UInt8(ascii: "\"") else {
                throw error("expected a string key")
            }
            let keyStart = position
            let key = try string()
            guard keys.insert(key).inserted else {
                position = keyStart
                throw error("duplicate key \"\(EchoedText.cut(key))\"")
            }
            skipWhitespace()
            guard position < buffer.count, buffer[position] == UInt8(ascii: ":") else { throw error("expected \":\"") }
            position += 1
            skipWhitespace()
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            guard position < buffer.count else { throw error("unexpected end of the text in an object") }
            if buffer[position] == UInt8(ascii: ",") { position += 1; continue }
            if buffer[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw error("expected \",\" or \"}\"")
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < buffer.count && buffer[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard position < buffer.count else { throw error("unexpected end of the text in an array") }
            if buffer[position] == UInt8(ascii: ",") { position += 1; continue }
            if buffer[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw error("expected \",\" or \"]\"")
        }
    }

    mutating func number() throws(JSONSyntaxError) -> String {
        let start = position
        func digits(_ p: inout Int) -> Int {
            let s = p
            while p < buffer.count && buffer[p] >= UInt8(ascii: "0") && buffer[p] <= UInt8(ascii: "9") { p += 1 }
            return p - s
        }
        if buffer[position] == UInt8(ascii: "-") { position += 1 }
        let intStart = position
        let intDigits = digits(&position)
        guard intDigits > 0 else { throw error("invalid number") }
        guard !(intDigits > 1 && buffer[intStart] == UInt8(ascii: "0")) else { throw error("number with a leading zero") }
        if position < buffer.count && buffer[position] == UInt8(ascii: ".") {
            position += 1
            guard digits(&position) > 0 else { throw error("invalid number") }
        }
        if position < buffer.count && (buffer[position] == UInt8(ascii: "e") || buffer[position] == UInt8(ascii: "E")) {
            position += 1
            if position < buffer.count && (buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard digits(&position) > 0 else { throw error("invalid number") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self)
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard buffer.count - position >= 4 else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buffer[position]
            let n: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): n = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): n = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): n = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | n
            position += 1
        }
        return v
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        position += 1  // opening quote
        var bytes: [UInt8] = []
        while true {
            guard position < buffer.count else { throw error("unterminated string") }
            let c = buffer[position]
            switch c {
            case UInt8(ascii: "\""):
                position += 1
                // Invalid UTF-8 is refused rather than silently repaired.
                guard let text = String(validating: bytes, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < buffer.count else { throw error("unterminated string") }
                let e = buffer[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5c)
                case UInt8(ascii: "/"): bytes.append(0x2f)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0c)
                case UInt8(ascii: "n"): bytes.append(0x0a)
                case UInt8(ascii: "r"): bytes.append(0x0d)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xd800 && scalar < 0xdc00 {
                        guard buffer.count - position >= 6, buffer[position] == UInt8(ascii: "\\"),
                              buffer[position + 1] == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                        position += 2
                        let low = try hex4()
                        guard low >= 0xdc00 && low < 0xe000 else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("unpaired surrogate") }
                    bytes.append(contentsOf: String(Character(u)).utf8)
                default:
                    position -= 1
                    throw error("invalid escape \\\(describe(e))")
                }
            default:
                guard c >= 0x20 else { throw error("control character in a string") }
                bytes.append(c)
                position += 1
            }
        }
    }
}

/// One short piece of JSON text (a timer's line) built in a buffer the caller
/// provides, `capacity` bytes: every field of a timer line is bounded (ints,
/// 16 hex digits, clock and notify names), so 512 bytes always suffice.
struct JSONLine {
    static let capacity = 512
    private let base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0

    init(_ base: UnsafeMutablePointer<UInt8>) { self.base = base }

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        precondition(count + n <= Self.capacity, "JSONLine overflow")
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    mutating func raw(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        reserve(n)
        (base + count).update(from: s.utf8Start, count: n)
        count += n
    }

    mutating func integer<I: BinaryInteger>(_ value: I) {
        reserve(21)
        if value < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var v = UInt64(value.magnitude)
        var digits = 1
        var rest = v / 10
        while rest != 0 { digits += 1; rest /= 10 }
        count += digits
        var i = count
        repeat {
            i -= 1
            base[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
        } while v != 0
    }

    mutating func hex16(_ value: UInt64) {
        reserve(18)
        base[count] = UInt8(ascii: "0")
        base[count + 1] = UInt8(ascii: "x")
        for i in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * i)) & 0xf
            base[count + 2 + i] = nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
        }
        count += 18
    }

    /// A quoted string, escaped as `JSONWriter.appendString` does.
    mutating func string(_ s: String) {
        byte(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in                      // contiguous: iterating s.utf8 cost ~30 instructions a byte
            for b in bytes {
                if let escape = JSONWriter.escape(b) {
                    for e in escape { byte(e) }
                } else {
                    byte(b)
                }
            }
        }
        byte(UInt8(ascii: "\""))
    }
}

/// Writes JSON text; strings escaped per RFC 8259.
public enum JSONWriter {
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            if let escape = escape(b) { out.append(contentsOf: escape) } else { out.append(b) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// How byte `b` of a string is written when it cannot appear as is
    /// (quote, backslash, control characters); nil for every other byte.
    @inline(__always)
    static func escape(_ b: UInt8) -> [UInt8]? {
        guard b < 0x20 || b == 0x22 || b == 0x5c else { return nil }
        switch b {
        case 0x22: return [0x5c, 0x22]
        case 0x5c: return [0x5c, 0x5c]
        case 0x0a: return [0x5c, UInt8(ascii: "n")]
        case 0x0d: return [0x5c, UInt8(ascii: "r")]
        case 0x09: return [0x5c, UInt8(ascii: "t")]
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            return [0x5c, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xf)]]
        }
    }

    /// Decimal digits written straight into `out`: `String(value)` allocated
    /// a string per number, a third of the time of dumping 90,000 timers
    /// (callgrind, docs/performance.md).
    @inlinable
    public static func appendInteger<I: BinaryInteger>(_ value: I, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(value.magnitude), to: &out)
    }

    @inlinable
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // At most 20 digits, produced last first.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            } while v != 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    @inline(__always)
    public static func appendRaw(_ s: StaticString, to out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }
}
