/// The text of /proc/PID/stat: one line, `PID (COMM) STATE PPID ...`, as
/// fs/proc/array.c's do_task_stat prints it (proc_pid_stat(5) numbers the
/// fields from 1).
///
/// A pure, strict parser (the one reading of this file in timer-criu):
/// the command name may hold spaces and parentheses, so it runs to the last
/// ")"; after it come the state letter and only decimal integers, at least
/// up to field 22 (starttime, there since Linux 2.6). Anything else is a
/// `ProcTimersParseError` naming the line and the field.
public struct ProcStat: Equatable, Sendable {
    /// Field 1.
    public var processID: Int32
    /// Field 2, without its parentheses.
    public var command: String
    /// Field 3: R, S, D, T, t, X, Z, P, I.
    public var state: Character
    /// Fields 4 to the last, field N at index N - 4 (unsigned 64-bit
    /// fields as their bit pattern).
    public var numbers: [Int64]

    /// Field 4.
    public var parentProcessID: Int32 { Int32(truncatingIfNeeded: numbers[0]) }
    /// Field 9: the PF_* flags of include/linux/sched.h.
    public var flags: UInt32 { UInt32(truncatingIfNeeded: numbers[5]) }
    /// Field 20.
    public var threadCount: Int64 { numbers[16] }

    /// PF_KTHREAD: a kernel thread (the `Kthread:` status line exists only
    /// since Linux 6.x; this flag always did).
    public static let kernelThreadFlag: UInt32 = 0x0020_0000
    public var isKernelThread: Bool { flags & Self.kernelThreadFlag != 0 }

    /// The fields a stat line has at least (through starttime).
    public static let minimumFields = 22

    public init(processID: Int32, command: String, state: Character, numbers: [Int64]) {
        self.processID = processID
        self.command = command
        self.state = state
        self.numbers = numbers
    }

    public init(_ text: String) throws(ProcTimersParseError) { try self.init(Array(text.utf8)) }

    public init(_ bytes: [UInt8]) throws(ProcTimersParseError) {
        // One line, though the command name is printed unescaped and may
        // hold a newline of its own (prctl(PR_SET_NAME) takes any bytes).
        guard !bytes.isEmpty else { throw ProcTimersParseError(line: 1, "empty") }
        guard bytes.last == UInt8(ascii: "\n") else {
            let newlines = bytes.filter { $0 == UInt8(ascii: "\n") }.count
            throw ProcTimersParseError(line: newlines + 1, "truncated: the last line has no newline")
        }
        let line = bytes[..<(bytes.count - 1)]
        func refuse(_ problem: String) -> ProcTimersParseError {
            ProcTimersParseError(line: 1, "\"\(ProcLines.show(line))\": \(problem)")
        }
        guard let open = line.firstIndex(of: UInt8(ascii: "(")), let close = line.lastIndex(of: UInt8(ascii: ")")),
              open < close else { throw refuse("no \"(COMM)\" field") }
        if let extra = line[(close + 1)...].firstIndex(of: UInt8(ascii: "\n")) {
            let number = line[..<extra].filter { $0 == UInt8(ascii: "\n") }.count + 2
            throw ProcTimersParseError(line: number, "expected one line after the command name, found more")
        }
        guard open > line.startIndex, line[open - 1] == UInt8(ascii: " "),
              let pid = ProcLines.decimal(String(decoding: line[line.startIndex..<(open - 1)], as: UTF8.self)),
              pid <= Int64(Int32.max) else { throw refuse("field 1 is not a process id") }
        let rest = line[(close + 1)...]
        guard rest.first == UInt8(ascii: " ") else { throw refuse("no space after the command name") }
        let words = rest.dropFirst().split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard let stateWord = words.first, stateWord.count == 1,
              let letter = stateWord.first.map({ Character(Unicode.Scalar($0)) }), ProcLines.stateLetters.contains(letter) else {
            throw refuse("field 3 is not a state letter")
        }
        var numbers: [Int64] = []
        numbers.reserveCapacity(words.count)
        for (index, word) in words.dropFirst().enumerated() {
            // %d, %u, %lu and %llu fields: unsigned 64-bit ones (rsslim is
            // 18446744073709551615 unlimited) are kept as their bit pattern.
            let text = String(decoding: word, as: UTF8.self)
            let negative = text.hasPrefix("-")
            let digits = negative ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let magnitude = UInt64(digits), !negative || magnitude <= UInt64(Int64.max) else {
                throw refuse("field \(index + 4) is not a decimal number")
            }
            numbers.append(negative ? -Int64(magnitude) : Int64(bitPattern: magnitude))
        }
        guard numbers.count + 3 >= Self.minimumFields else {
            throw refuse("\(numbers.count + 3) fields, fewer than the \(Self.minimumFields) of every kernel since 2.6")
        }
        self.init(processID: Int32(pid), command: String(decoding: line[(open + 1)..<close], as: UTF8.self),
                  state: letter, numbers: numbers)
    }
}

extension ProcStat {
    /// The line as the kernel prints it (fields past 3 as signed numbers:
    /// an unsigned 64-bit field at its maximum reads back as the same bits).
    public var text: String {
        "\(processID) (\(command)) \(state) " + numbers.map(String.init).joined(separator: " ") + "\n"
    }
}
