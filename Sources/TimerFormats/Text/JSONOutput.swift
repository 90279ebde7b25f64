/// One JSON value of an output (a report, a table's `--json`), members in the
/// order given: the one builder every JSON output but the checkpoint's fast
/// writer uses. Strings are escaped as `JSONWriter.appendString` does.
public indirect enum JSONOutput {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    /// Text another writer made (a checkpoint by its fast writer, a figure
    /// with one decimal): written as it is.
    case raw([UInt8])
    case array([JSONOutput], JSONLayout = .inline)
    case object([(key: String, value: JSONOutput)], JSONLayout = .inline)
    /// `count` elements, each written by `element` straight into the output:
    /// the timers of a report, without a value per timer.
    case elements(count: Int, JSONLayout, element: (Int, inout [UInt8]) -> Void)

    public static func integer<I: BinaryInteger>(_ value: I) -> JSONOutput {
        Int64(exactly: value).map(JSONOutput.number) ?? .raw(String(value))
    }
    public static func raw(_ text: String) -> JSONOutput { .raw(Array(text.utf8)) }
    /// An integer, or null.
    public static func optional<I: BinaryInteger>(_ value: I?) -> JSONOutput { value.map { .integer($0) } ?? .null }
    public static func strings(_ list: [String]) -> JSONOutput { .array(list.map(JSONOutput.string)) }

    /// The text and a final newline: a whole output.
    public var document: [UInt8] {
        var out: [UInt8] = []
        append(to: &out, indent: 0)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    public var documentText: String { String(decoding: document, as: UTF8.self) }

    /// Appends the value; `indent` is the indentation of the line it starts on.
    public func append(to out: inout [UInt8], indent: Int) {
        switch self {
        case .null: JSONWriter.appendRaw("null", to: &out)
        case .bool(let value): JSONWriter.appendRaw(value ? "true" : "false", to: &out)
        case .number(let value): JSONWriter.appendInteger(value, to: &out)
        case .string(let value): JSONWriter.appendString(value, to: &out)
        case .raw(let bytes): out.append(contentsOf: bytes)
        case .array(let items, let layout):
            Self.container("[", "]", count: items.count, layout, indent, &out) { i, out, inner in
                items[i].append(to: &out, indent: inner)
            }
        case .object(let members, let layout):
            Self.container("{", "}", count: members.count, layout, indent, &out) { i, out, inner in
                JSONWriter.appendString(members[i].key, to: &out)
                JSONWriter.appendRaw(": ", to: &out)
                members[i].value.append(to: &out, indent: inner)
            }
        case .elements(let count, let layout, let element):
            Self.container("[", "]", count: count, layout, indent, &out) { i, out, _ in element(i, &out) }
        }
    }

    private static func container(_ opening: StaticString, _ closing: StaticString, count: Int, _ layout: JSONLayout,
                                  _ indent: Int, _ out: inout [UInt8], item: (Int, inout [UInt8], Int) -> Void) {
        JSONWriter.appendRaw(opening, to: &out)
        switch layout {
        case .inline:
            for i in 0..<count {
                if i > 0 { JSONWriter.appendRaw(", ", to: &out) }
                item(i, &out, indent)
            }
        case .lines(let step):
            let inner = indent + step
            for i in 0..<count {
                JSONWriter.appendRaw(i == 0 ? "\n" : ",\n", to: &out)
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: inner))
                item(i, &out, inner)
            }
            if count > 0 {
                out.append(UInt8(ascii: "\n"))
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
            }
        }
        JSONWriter.appendRaw(closing, to: &out)
    }
}

/// How a JSON object or array is laid out.
public enum JSONLayout: Sendable {
    /// On one line: `{"a": 1, "b": [2, 3]}`.
    case inline
    /// One member per line, `step` spaces deeper than the line the container
    /// starts on, the closing bracket back at that line's indentation; an
    /// empty container stays `[]`.
    case lines(step: Int)

    /// Two spaces a level, as every report prints.
    public static let lines = JSONLayout.lines(step: 2)
}
