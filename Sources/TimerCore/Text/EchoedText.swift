/// Text that came from an input (a checkpoint, a /proc copy, a script, a
/// costs file) made safe to print on a terminal: control characters
/// escaped, so a crafted file cannot forge lines or send terminal escapes,
/// and, where a message quotes the input, cut to a fixed length, so a 50 MB
/// key does not become a 50 MB stderr line (docs/reliability.md).
public enum EchoedText {
    /// The most characters of an input a message quotes (the /proc parser
    /// always cut its lines at 60 bytes).
    public static let maximumQuoted = 60

    /// `text` with every C0 and C1 control character, DEL and the Unicode
    /// direction overrides written as escapes: "\n", "\r", "\t", "\e" and
    /// "\u{..}". Everything else is kept as is.
    public static func escaped<S: StringProtocol>(_ text: S) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return String(text) }
        var out = ""
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else { out.unicodeScalars.append(scalar); continue }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{1b}": out += "\\e"
            default: out += "\\u{" + String(scalar.value, radix: 16) + "}"
            }
        }
        return out
    }

    /// `escaped(text)` cut to `maximumQuoted` characters; a cut text ends with
    /// "... (N bytes)" giving the input's length.
    public static func cut<S: StringProtocol>(_ text: S, limit: Int = maximumQuoted) -> String {
        let head = text.prefix(limit + 1)
        let safe = escaped(head)
        guard head.count > limit || safe.count > limit else { return safe }
        return String(safe.prefix(limit)) + "... (\(text.utf8.count) bytes)"
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7f...0x9f: return true
        case 0x202a...0x202e, 0x2066...0x2069: return true  // bidi embeddings, overrides, isolates
        default: return false
        }
    }

    /// One `timer-criu: warning: ...` line for stderr, the warning escaped
    /// (a checkpoint's warnings are its author's text), optionally naming
    /// the process of a tree.
    public static func warningLine(_ warning: String, process: Int32? = nil) -> String {
        "timer-criu: warning: " + (process.map { "process \($0): " } ?? "") + escaped(warning) + "\n"
    }
}
