// libFuzzer target: the `simulate` script parser (SimulationScript,
// Sources/TimerCore/Simulation). The input is a script; its first byte picks
// the thread count (1...4). Built by Scripts/fuzz.sh with every file of
// Sources/TimerCore (one module).
//
// Properties: never crashes; a refusal is one line (CR, LF, ESC escaped) of
// bounded length (every echoed word is cut); a parsed script's line numbers
// rise and lie within the text's lines, CRLF and LF counted alike.
@_cdecl("LLVMFuzzerTestOneInput")
public func simulateScriptFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let threads = 1 + Int(data[0]) % 4
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
    do {
        let script = try SimulationScript.parse(text, threads: threads)
        var previous = 0
        for line in script.lines {
            precondition(line.number > previous && line.number <= lineCount, "line \(line.number) of \(lineCount)")
            previous = line.number
            if case let .create(clock, _, _) = line.call, let pid = clock.cpuClockPID {
                precondition(pid >= 0 && pid <= ClockID.maximumCPUClockPID, "a CPU clock naming pid \(pid)")
            }
        }
        _ = script.outputLineCount
    } catch {
        let message = error.description
        precondition(message.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f },
                     "a control character in: \(message.debugDescription)")
        precondition(error.line >= 1 && error.line <= lineCount, "error line \(error.line) of \(lineCount)")
        precondition(message.utf8.count < 1000, "a refusal of \(message.utf8.count) bytes")
    }
    return 0
}
