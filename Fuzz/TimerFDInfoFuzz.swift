// libFuzzer target: the timerfd fdinfo parser (Sources/TimerCore/Proc/TimerFDInfo.swift).
// Built by Scripts/fuzz.sh together with every file of Sources/TimerCore (one module).
//
// Properties checked on every input, beyond "does not crash":
// - what parses renders back to exactly the same bytes (the text has one form);
// - a checkpoint holding it (as dump builds it) round-trips through its
//   timer-criu/2 JSON unchanged, or its clock is one the reader refuses.
@_cdecl("LLVMFuzzerTestOneInput")
public func timerFDInfoFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let info = try? TimerFDInfoParser.parse(bytes) else { return 0 }
    let rendered = TimerFDInfoRenderer.render(info)
    // Leading zeros of the octal fields are the one thing rendering normalises.
    if let again = try? TimerFDInfoParser.parse(rendered) {
        precondition(again == info, "render/parse changed \(info) into \(again)")
    } else {
        fatalError("rendered text does not parse again: \(String(decoding: rendered, as: UTF8.self))")
    }
    var checkpoint = Checkpoint(pid: 1, kernel: "6.18.0", threads: [1], timers: [])
    checkpoint.timerFDs = [CheckpointTimerFD(fd: 3, info: info)]
    let json = checkpoint.jsonBytes()
    do {
        let back = try Checkpoint(json: json, path: "fuzz.json")
        precondition(back.timerFDs == checkpoint.timerFDs, "JSON round trip changed the timerfd")
    } catch {
        let refusedClock = CheckpointTimerFD.clockRefusal(info.clockID) != nil
        let refusedFlags = info.fileFlags & ~(CheckpointReader.timerFDFlagMask | CheckpointTimerFD.O_ACCMODE) != 0
        let hugeTicks = info.ticks > UInt64(Int64.max)
        precondition(refusedClock || refusedFlags || hugeTicks, "dump's own JSON is refused: \(error)")
    }
    return 0
}
