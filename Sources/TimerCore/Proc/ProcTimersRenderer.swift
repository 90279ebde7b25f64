/// Renders timers exactly as the kernel prints /proc/PID/timers
/// (fs/proc/base.c show_timer): four lines per timer, sival with `%px`.
/// The caller passes them in the kernel's order: newest-created first.
public enum ProcTimersRenderer {
    public static func render(_ timers: some Sequence<ProcTimer>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(timers.underestimatedCount * 72)
        for timer in timers { append(timer, to: &out) }
        return out
    }

    public static func append(_ timer: ProcTimer, to out: inout [UInt8]) {
        appendASCII("ID: ", to: &out)
        appendDecimal(Int64(timer.id), to: &out)
        appendASCII("\nsignal: ", to: &out)
        appendDecimal(Int64(timer.signal), to: &out)
        out.append(UInt8(ascii: "/"))
        switch timer.sigevValueForm {
        case .padded: appendHex(timer.sigevValue, minimumDigits: 16, to: &out)
        case .unpadded: appendHex(timer.sigevValue, minimumDigits: 1, to: &out)
        case .null: appendASCII("(null)", to: &out)
        }
        appendASCII("\nnotify: ", to: &out)
        appendASCII(timer.notify.procWhat, to: &out)
        out.append(UInt8(ascii: "/"))
        appendASCII(timer.notify.procKind, to: &out)
        out.append(UInt8(ascii: "."))
        appendDecimal(Int64(timer.notifyTarget), to: &out)
        appendASCII("\nClockID: ", to: &out)
        appendDecimal(Int64(timer.clockID.rawValue), to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    @inline(__always)
    static func appendASCII(_ s: StaticString, to out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func appendASCII(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: s.utf8)
    }

    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var buffer = [UInt8](repeating: 0, count: 0)
        buffer.reserveCapacity(20)
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out.append(contentsOf: buffer.reversed())
    }

    static func appendHex(_ value: UInt64, minimumDigits: Int, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        var count = 1
        while count < 16 && (value >> (4 * UInt64(count))) != 0 { count += 1 }
        count = max(count, minimumDigits)
        hex.withUTF8Buffer { digits in
            for i in stride(from: count - 1, through: 0, by: -1) {
                out.append(digits[Int((value >> (4 * UInt64(i))) & 0xf)])
            }
        }
    }
}
