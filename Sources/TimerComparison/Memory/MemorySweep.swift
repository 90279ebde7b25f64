import TimerCore
import TimerFormats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes per timer against ID sparsity, design by design, and what one user
/// can make the kernel hold (`timer-criu memory --sweep`, docs/memory.md).
public struct MemorySweep: Sendable {
    public struct Point: Sendable {
        /// IDs stride-1, 2*stride-1, ..., timers*stride-1: stride 1 is dense
        /// (0 ..< timers), the largest puts the last timer at INT_MAX.
        public var stride: Int64
        public var memory: KernelMemory
        public var maxID: Int64 { memory.maxID.map(Int64.init) ?? 0 }
    }

    /// RLIMIT_SIGPENDING timers in one process at the sparsest IDs: the most
    /// one unprivileged user's timers can cost under each design.
    public struct WorstCase: Sendable {
        public var timers: Int
        public var stride: Int64
        /// Per design row: at the sparsest IDs; global-idr at dense IDs (its
        /// IDs are the machine's lowest free: a user cannot spread them).
        public var memory: KernelMemory
        public var dense: KernelMemory
        /// One timer per process at INT_MAX instead: xarray nodes per timer.
        public var nodesPerLoneTimerAtIntMax: Int
    }

    public var timers: Int
    public var points: [Point]
    public var worstCase: WorstCase

    /// Strides 1, 2, 4, ... up to 2^31 / timers (and that value itself).
    public static func strides(timers: Int) -> [Int64] {
        let top = (Int64(1) << 31) / Int64(max(timers, 1))
        var strides: [Int64] = []
        var s: Int64 = 1
        while s <= top { strides.append(s); s <<= 1 }
        if strides.last != top { strides.append(top) }
        return strides
    }

    static func ids(timers: Int, stride: Int64) -> [Int32] {
        (0..<Int64(timers)).map { Int32(($0 + 1) * stride - 1) }
    }

    public static func run(timers: Int, kernels: [KernelMemory.Kernel], sizes: SlabObjectSizes,
                           userLimit: Int) -> MemorySweep {
        let points = strides(timers: timers).map { stride in
            Point(stride: stride, memory: KernelMemory.estimate(processes: [ids(timers: timers, stride: stride)],
                                                               kernels: kernels, sizes: sizes, lookups: false))
        }
        let worstStride = strides(timers: userLimit).last ?? 1
        let worst = KernelMemory.estimate(processes: [ids(timers: userLimit, stride: worstStride)], kernels: kernels,
                                          sizes: sizes, lookups: false)
        let dense = KernelMemory.estimate(processes: [ids(timers: userLimit, stride: 1)], kernels: kernels,
                                          sizes: sizes, lookups: false)
        let lone = RadixIndex.xarrayNodes(sortedIDs: [Int64(Int32.max)])
        return MemorySweep(timers: timers, points: points,
                           worstCase: WorstCase(timers: userLimit, stride: worstStride, memory: worst, dense: dense,
                                                nodesPerLoneTimerAtIntMax: lone))
    }

    /// The worst case of one design row (global-idr: dense, see WorstCase).
    public func worstRow(_ index: Int) -> KernelMemory.DesignRow {
        let row = worstCase.memory.rows[index]
        return row.design == .globalIDR ? worstCase.dense.rows[index] : row
    }

    static func rowLabel(_ row: KernelMemory.DesignRow) -> String {
        "\(row.design.rawValue) (\(row.kernels.joined(separator: ", ")))"
    }

    // MARK: Output

    public func text() -> String {
        let designRows = points.first?.memory.rows ?? []
        var headers = ["STRIDE", "HIGHEST ID"]
        for row in designRows { headers.append(Self.rowLabel(row)) }
        var table = TextTable(headers: headers, rightAligned: Set(0..<headers.count))
        for point in points {
            table.rows.append([String(point.stride), String(point.maxID)]
                + point.memory.rows.map { ByteText.perTimer($0.bytesPerTimer) })
        }
        var lines = ["bytes per timer, \(timers) timer(s) in one process at IDs stride-1, 2*stride-1, ... "
            + "(stride 1 = dense)", "", table.text]
        let w = worstCase
        lines.append("Worst case per user: RLIMIT_SIGPENDING = \(w.timers) timers in one process at stride \(w.stride) "
            + "(highest ID \(Int64(w.timers) * w.stride - 1)):")
        var worstTable = TextTable(headers: ["DESIGN", "KERNELS", "INDEX NODES", "TOTAL BYTES", "TOTAL", "PER TIMER",
                                             "VS DENSE"], rightAligned: [2, 3, 4, 5, 6])
        for index in w.memory.rows.indices {
            let row = worstRow(index)
            worstTable.rows.append([row.design.rawValue + (row.design == .globalIDR ? " (dense: lowest free IDs)" : ""),
                                    row.kernels.joined(separator: ","), String(row.indexNodes), String(row.totalBytes),
                                    ByteText.size(Double(row.totalBytes)), ByteText.perTimer(row.bytesPerTimer),
                                    ByteText.ratio(row.ratioToDense)])
        }
        lines.append(worstTable.text)
        lines.append("One timer per process at INT_MAX instead: \(w.nodesPerLoneTimerAtIntMax) xarray nodes "
            + "(\(w.nodesPerLoneTimerAtIntMax * (w.memory.sizes.xarrayNode)) bytes) per timer, but every process "
            + "costs far more itself (task_struct, mm, signal_struct).")
        lines.append("sizes: \(w.memory.sizes.source)")
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() -> String {
        let w = worstCase
        return JSONOutput.object([
            ("timers", .integer(timers)),
            ("points", .array(points.map { point in
                .object([("stride", .integer(point.stride)), ("max_id", .integer(point.maxID)), ("memory", point.memory.jsonObject)])
            }, .lines)),
            ("worst_case", .object([("timers", .integer(w.timers)), ("stride", .integer(w.stride)),
                                    ("memory", w.memory.jsonObject), ("dense", w.dense.jsonObject)])),
        ]).documentText
    }

    static func color(_ row: KernelMemory.DesignRow) -> String {
        switch row.design {
        case .globalHash: return row.model.separateSigqueue ? "#1f77b4" : "#17becf"
        case .perProcessXArray: return "#d62728"
        case .globalIDR: return "#ff7f0e"
        }
    }

    /// Left: bytes per timer against stride (log-log), one line per design
    /// row. Right: the worst case per user as bars.
    public func svg() -> String {
        let width = 1000.0, height = 600.0
        let left = 92.0, right = 600.0, top = 110.0, bottom = 470.0
        var doc = SVGDocument(width: width, height: height)
        doc.text(left, 32, "What sparse timer IDs cost the kernel, by ID-index design", size: 18, bold: true)
        doc.text(left, 54, "\(timers) timers in one process at IDs stride-1, 2*stride-1, ...: kernel bytes per timer",
                 size: 12, fill: "#333333")
        let designRows = points.first?.memory.rows ?? []
        let values = points.flatMap { $0.memory.rows.map(\.bytesPerTimer) }
        let yAxis = LogAxis(covering: values.isEmpty ? [100, 1000] : values, from: bottom, to: top)
        let xAxis = LogAxis(covering: points.map { Double($0.stride) }, from: left, to: right)
        for decade in yAxis.decades {
            let y = yAxis.position(pow(10, Double(decade)))
            doc.line(left, y, right, y, stroke: "#e4e4e4")
            doc.text(left - 7, y + 4, String(Int64(pow(10, Double(decade)))) + " B", size: 11, anchor: .end)
        }
        for decade in xAxis.decades {
            let x = xAxis.position(pow(10, Double(decade)))
            doc.line(x, top, x, bottom, stroke: "#e4e4e4")
            doc.text(x, bottom + 18, LogAxis.powerOfTen(decade), size: 11, anchor: .middle)
        }
        doc.line(left, bottom, right, bottom)
        doc.line(left, top, left, bottom)
        doc.text((left + right) / 2, top - 10, "bytes per timer against ID stride", size: 14, anchor: .middle, bold: true)
        doc.text((left + right) / 2, bottom + 40, "stride between timer IDs (log scale; the last puts a timer at INT_MAX)",
                 size: 12, anchor: .middle)
        doc.text(24, (top + bottom) / 2, "kernel bytes per timer (log scale)", size: 12, anchor: .middle, rotate: -90)
        // Legend under the title.
        var legendX = left
        for row in designRows {
            let label = Self.rowLabel(row)
            doc.line(legendX, 76, legendX + 28, 76, stroke: Self.color(row), width: 3)
            doc.text(legendX + 34, 80, label, size: 11)
            legendX += 50 + Double(label.count) * 6.2
        }
        for (index, row) in designRows.enumerated() {
            let coordinates = points.map { (xAxis.position(Double($0.stride)), yAxis.position($0.memory.rows[index].bytesPerTimer)) }
            doc.polyline(coordinates, stroke: Self.color(row), width: 3,
                         dash: row.design == .globalHash && !row.model.separateSigqueue ? "8,4" : nil)
            for (point, (x, y)) in zip(points, coordinates) {
                let r = point.memory.rows[index]
                doc.circle(x, y, r: 3, fill: Self.color(row), stroke: Self.color(row),
                           title: "\(Self.rowLabel(row)), stride \(point.stride): \(ByteText.perTimer(r.bytesPerTimer)) "
                               + "bytes per timer, \(r.indexNodes) index nodes")
            }
        }
        // The last figure of each line at its right end, nudged apart where two would overlap.
        if let last = points.last {
            var placed: [Double] = []
            for (index, row) in designRows.enumerated() {
                let r = last.memory.rows[index]
                var y = yAxis.position(r.bytesPerTimer) + 4
                while placed.contains(where: { abs($0 - y) < 12 }) { y += 12 }
                placed.append(y)
                doc.text(right + 6, y, ByteText.perTimer(r.bytesPerTimer), size: 10, fill: Self.color(row))
            }
        }

        // Right panel: the worst case per user.
        let w = worstCase
        let barLeft = 680.0, barRight = 960.0
        doc.text((barLeft + barRight) / 2, top - 10, "worst case per user", size: 14, anchor: .middle, bold: true)
        doc.text(barLeft, top + 8, "\(w.timers) timers (RLIMIT_SIGPENDING)", size: 11, fill: "#333333")
        doc.text(barLeft, top + 22, "in one process at stride \(w.stride)", size: 11, fill: "#333333")
        let worstRows = w.memory.rows.indices.map(worstRow)
        let most = Double(worstRows.map(\.totalBytes).max() ?? 1)
        for (i, row) in worstRows.enumerated() {
            let y = top + 50 + Double(i) * 74
            let length = (barRight - barLeft) * Double(row.totalBytes) / max(most, 1)
            doc.rect(barLeft, y, max(length, 1), 22, fill: Self.color(row),
                     title: "\(Self.rowLabel(row)): \(row.totalBytes) bytes")
            doc.text(barLeft, y - 5, Self.rowLabel(row), size: 11)
            doc.text(barLeft, y + 38, "\(ByteText.size(Double(row.totalBytes))), \(ByteText.perTimer(row.bytesPerTimer)) "
                     + "B/timer" + (row.design == .globalIDR ? " (IDs dense)" : ""), size: 11, fill: "#333333")
        }
        doc.text(left, height - 62, "global-hash: one k_itimer per timer (+ a sigqueue before 6.13); the hash table is "
                 + "sized at boot for the machine, so the IDs cost nothing.", size: 12, fill: "#333333")
        doc.text(left, height - 44, "per-process-xarray: 576-byte nodes, 64 slots each; sparse IDs need up to one node "
                 + "per level per timer. global-idr (2.6): 544-byte layers.", size: 12, fill: "#333333")
        doc.text(left, height - 26, "Under 2.6 the IDs were the machine's lowest free ones: a user could not spread "
                 + "them, so its worst case is the dense one.", size: 12, fill: "#333333")
        doc.text(left, height - 8, "slab object sizes: \(points.first?.memory.sizes.source ?? "")", size: 10,
                 fill: "#777777")
        return doc.text
    }
}
