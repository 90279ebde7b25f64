// libFuzzer target: the /proc/PID/status and /proc/PID/stat parsers
// (Sources/TimerCore/Proc/ProcStatus.swift, ProcStat.swift); every input
// goes through both. Built by Scripts/fuzz.sh together with every file of
// Sources/TimerCore (one module).
//
// Properties checked on every input, beyond "does not crash":
// - what parses prints back (`text`) to text that parses to the same record;
// - a refusal is one line naming a line of the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func procStatusFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let lines = bytes.filter { $0 == UInt8(ascii: "\n") }.count
    do {
        let status = try ProcStatus(bytes)
        guard let again = try? ProcStatus(status.text) else { fatalError("printed status does not parse again: \(status.text)") }
        precondition(again == status, "print/parse changed the status")
        precondition(again.threadGroup == status.threadGroup && again.state == status.state
            && again.signalQueue?.queued == status.signalQueue?.queued, "print/parse changed a typed field")
    } catch {
        precondition(!error.description.contains("\n"), "a refusal of more than one line")
        precondition(error.line >= 1 && error.line <= lines + 1, "line \(error.line) of \(lines + 1)")
    }
    do {
        let stat = try ProcStat(bytes)
        guard let again = try? ProcStat(stat.text) else { fatalError("printed stat does not parse again: \(stat.text)") }
        precondition(again == stat, "print/parse changed \(stat) into \(again)")
    } catch {
        precondition(!error.description.contains("\n"), "a refusal of more than one line")
        precondition(error.line >= 1 && error.line <= lines + 1, "line \(error.line) of \(lines + 1)")
    }
    return 0
}
