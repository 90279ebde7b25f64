/// The text of /proc/PID/status (or /proc/PID/task/TID/status): one
/// `Name:<tab>value` line per field, as fs/proc/array.c prints it.
///
/// A pure, strict parser of the bytes (the one reading of this file in
/// timer-criu; HostKernel's ProcFS reads it): every line must be a field, a
/// field appears once, and each field timer-criu uses must have the kernel's
/// form, else a `ProcTimersParseError` names the line. Fields it does not
/// use are kept as text (`subscript`), whatever they hold.
public struct ProcStatus: Equatable, Sendable {
    /// Every field in file order, the value without the spaces and tabs
    /// around it.
    public private(set) var fields: [(name: String, value: String)] = []

    /// `State:`'s letter (R, S, D, T, t, X, Z, P, I).
    public private(set) var state: Character?
    /// `Tgid:`, `Pid:`, `PPid:`, `TracerPid:` (0: not traced).
    public private(set) var threadGroup: Int32?
    public private(set) var processID: Int32?
    public private(set) var parentProcessID: Int32?
    public private(set) var tracerPID: Int32?
    /// `Uid:`: real, effective, saved and filesystem uid.
    public private(set) var userIDs: [UInt32]?
    /// `NSpid:`: the task's id in each pid namespace, outermost first.
    public private(set) var namespacePIDs: [Int32]?
    /// `Kthread:` (Linux 6.x): whether the task is a kernel thread.
    public private(set) var isKernelThread: Bool?
    /// `SigQ:` queued/limit: the signals queued for the user (every timer
    /// holds one, docs/kernel-facts.md section 2) and RLIMIT_SIGPENDING.
    public private(set) var signalQueue: (queued: Int64, limit: Int64)?
    /// `CapPrm:` and `CapEff:`, the capability masks.
    public private(set) var permittedCapabilities: UInt64?
    public private(set) var effectiveCapabilities: UInt64?
    /// `Seccomp:` mode (0 none, 1 strict, 2 filter) and `Seccomp_filters:`.
    public private(set) var seccompMode: Int?
    public private(set) var seccompFilters: Int?
    /// `x86_Thread_features:` words (`shstk`, `wrss`): a user shadow stack.
    public private(set) var threadFeatures: [String]?
    /// `VmHWM:` in KiB: the peak resident set.
    public private(set) var peakResidentKiB: Int64?

    /// The value of field `name` (without the colon), nil when absent.
    public subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    /// Whether the task has exited (State Z, a zombie, or X, dead).
    public var hasExited: Bool { state == "Z" || state == "X" }

    public static func == (a: ProcStatus, b: ProcStatus) -> Bool {
        a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    public init(_ text: String) throws(ProcTimersParseError) { try self.init(Array(text.utf8)) }

    public init(_ bytes: [UInt8]) throws(ProcTimersParseError) {
        var seen = Set<String>()
        for (index, line) in try ProcLines.split(bytes).enumerated() {
            let number = index + 1
            func refuse(_ problem: String) -> ProcTimersParseError {
                ProcTimersParseError(line: number, "\"\(ProcLines.show(line))\": \(problem)")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw refuse("not a \"Name:\\tvalue\" field") }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            guard !name.isEmpty, name.utf8.allSatisfy(ProcStatus.isNameByte) else {
                throw refuse("not a field name (letters, digits, \"_\")")
            }
            guard seen.insert(name).inserted else { throw refuse("\(name) appears twice") }
            let value = String(decoding: ProcLines.trimmed(line[(colon + 1)...]), as: UTF8.self)
            fields.append((name, value))
            do throws(FieldError) { try decode(name, value) } catch { throw refuse("\(name): \(error.problem)") }
        }
    }

    struct FieldError: Error { var problem: String }

    /// Checks and stores one of the fields timer-criu reads.
    mutating func decode(_ name: String, _ value: String) throws(FieldError) {
        func id(_ text: Substring) throws(FieldError) -> Int32 {
            guard let n = ProcLines.decimal(text), n <= Int64(Int32.max) else {
                throw FieldError(problem: "\"\(ProcLines.show(text))\" is not a process id (0...2147483647)")
            }
            return Int32(n)
        }
        func mask(_ text: String) throws(FieldError) -> UInt64 {
            guard text.utf8.count == 16, let bits = UInt64(text, radix: 16) else {
                throw FieldError(problem: "expected 16 hex digits")
            }
            return bits
        }
        func words(_ text: String) -> [Substring] { text.split(whereSeparator: { $0 == " " || $0 == "\t" }) }
        switch name {
        case "State":
            guard let letter = value.first, ProcLines.stateLetters.contains(letter),
                  value.count == 1 || value.dropFirst().first == " " else {
                throw FieldError(problem: "expected a state letter (R, S, D, T, t, X, Z, P, I) and its name")
            }
            state = letter
        case "Tgid": threadGroup = try id(Substring(value))
        case "Pid": processID = try id(Substring(value))
        case "PPid": parentProcessID = try id(Substring(value))
        case "TracerPid": tracerPID = try id(Substring(value))
        case "NSpid":
            let ids = words(value)
            guard !ids.isEmpty else { throw FieldError(problem: "no pid") }
            var parsed: [Int32] = []
            for text in ids { parsed.append(try id(text)) }
            namespacePIDs = parsed
        case "Uid":
            let ids = words(value)
            var parsed: [UInt32] = []
            for text in ids {
                guard let n = ProcLines.decimal(text), n <= Int64(UInt32.max) else { break }
                parsed.append(UInt32(n))
            }
            guard ids.count == 4, parsed.count == 4 else {
                throw FieldError(problem: "expected four uids (real, effective, saved, filesystem)")
            }
            userIDs = parsed
        case "Kthread":
            guard value == "0" || value == "1" else { throw FieldError(problem: "expected 0 or 1") }
            isKernelThread = value == "1"
        case "SigQ":
            let parts = value.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let queued = ProcLines.decimal(parts[0]), let limit = ProcLines.decimal(parts[1]) else {
                throw FieldError(problem: "expected QUEUED/LIMIT")
            }
            signalQueue = (queued, limit)
        case "CapPrm": permittedCapabilities = try mask(value)
        case "CapEff": effectiveCapabilities = try mask(value)
        case "Seccomp", "Seccomp_filters":
            guard let n = ProcLines.decimal(Substring(value)), n <= Int64(Int32.max) else {
                throw FieldError(problem: "expected a decimal number")
            }
            if name == "Seccomp" { seccompMode = Int(n) } else { seccompFilters = Int(n) }
        case "x86_Thread_features": threadFeatures = words(value).map(String.init)
        case "VmHWM":
            let parts = words(value)
            guard parts.count == 2, parts[1] == "kB", let kib = ProcLines.decimal(parts[0]) else {
                throw FieldError(problem: "expected N kB")
            }
            peakResidentKiB = kib
        default: break
        }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): return true
        default: return false
        }
    }
}

/// The line handling the /proc status and stat parsers share.
enum ProcLines {
    /// The task states fs/proc/array.c prints (and those of older kernels: x, K, W).
    static let stateLetters: Set<Character> = ["R", "S", "D", "T", "t", "X", "x", "Z", "P", "I", "K", "W"]

    /// The lines of `bytes`, each without its newline; the text must end
    /// with one (the kernel ends every line so; a cut read does not).
    static func split(_ bytes: [UInt8]) throws(ProcTimersParseError) -> [ArraySlice<UInt8>] {
        guard !bytes.isEmpty else { throw ProcTimersParseError(line: 1, "empty") }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.last?.isEmpty == true else {
            throw ProcTimersParseError(line: lines.count, "truncated: the last line has no newline")
        }
        lines.removeLast()
        return lines
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return bytes[bytes.endIndex...] }
        return bytes[first...bytes.lastIndex(where: { !isSpace($0) })!]
    }

    /// Decimal digits only (no sign, no spaces), at most 18 of them.
    static func decimal<S: StringProtocol>(_ text: S) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int64(text)
    }

    /// A line for an error message: escaped, cut at 60 characters.
    static func show(_ bytes: ArraySlice<UInt8>) -> String { EchoedText.cut(String(decoding: bytes, as: UTF8.self)) }

    static func show<S: StringProtocol>(_ text: S) -> String { EchoedText.cut(text) }
}

extension ProcStatus {
    /// The fields as the kernel prints them, `Name:<tab>value` a line.
    public var text: String { fields.map { "\($0.name):\t\($0.value)\n" }.joined() }
}
