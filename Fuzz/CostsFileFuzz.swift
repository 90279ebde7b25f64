// libFuzzer target: the costs file of `compare --costs` (SyscallCosts,
// Sources/TimerCore/Compare). Built by Scripts/fuzz.sh with every file of
// Sources/TimerCore (one module).
//
// Properties: never crashes; an accepted file writes back (jsonBytes) to a
// file that reads back equal to within the one decimal it keeps; projecting
// a dance to ID INT_MAX, and a create-at-ID restore of 2^31 timers, with its
// figures gives a finite time below Int64.max that the JSON and SVG outputs
// take without trapping (issue 17 items 1 and 2).
@_cdecl("LLVMFuzzerTestOneInput")
public func costsFileFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let costs = try? SyscallCosts(json: bytes, path: "costs.json") else { return 0 }
    for (_, figure) in costs.figures {
        precondition(SyscallCosts.figureRange.contains(figure), "accepted a figure of \(figure) ns")
    }
    let again: SyscallCosts
    do { again = try SyscallCosts(json: costs.jsonBytes(), path: "again.json") } catch {
        fatalError("a costs file written from accepted figures is refused: \(error)")
    }
    for (a, b) in zip(costs.figures, again.figures) {
        precondition(abs(a.nanoseconds - b.nanoseconds) <= 0.05 + 1e-9 * a.nanoseconds, "\(a) became \(b)")
    }
    var dance = SyscallCounts()
    dance.timerCreate = Int(Int32.max) + 1
    dance.timerDelete = Int(Int32.max)
    dance.timerSettime = 1
    var atID = SyscallCounts()
    atID.timerCreate = Int(Int32.max) + 1
    atID.timerSettime = Int(Int32.max) + 1
    atID.prctl = 2
    for (counts, strategy) in [(dance, RestoreStrategy.dance), (atID, .createAtID)] {
        let projected = costs.projectedNanoseconds(counts, strategy: strategy)
        precondition(projected.isFinite && projected > 0 && projected < 9.2e18, "projected \(projected) ns")
        _ = SyscallCosts.integerNanoseconds(projected)
        let axis = LogAxis(covering: [projected, costs.createAtID], from: 400, to: 100, roomBelow: true)
        _ = SVGDocument.number(axis.position(projected))
        _ = DurationText.format(projected)
    }
    return 0
}
