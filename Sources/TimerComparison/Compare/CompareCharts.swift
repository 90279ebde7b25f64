import TimerCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two pictures of `compare`: grouped bars for one checkpoint, and the
/// sweep's log-log lines. Both are plain SVG text (SVGDocument).
extension CompareMatrix {
    /// Projected time of every row as bars grouped by kernel, log scale.
    /// Rows that fail are marked "fails" in their slot (no cost to show);
    /// rows projected, not run, are pale with a dashed outline.
    public func svg(title: String) -> String {
        let width = 960.0, height = 540.0
        let left = 92.0, right = width - 24, top = 104.0, bottom = height - 92
        var doc = SVGDocument(width: width, height: height)
        doc.text(left, 30, title, size: 17, bold: true)
        let idText = maxID.map { "highest ID \($0)" } ?? "no timers"
        doc.text(left, 50, "\(timerCount) timer(s), \(idText): projected restore time on a real kernel "
            + "(syscalls x per-syscall costs), by kernel and strategy", size: 12, fill: "#333333")

        var kernels: [String] = []
        var strategies: [RestoreStrategy] = []
        for row in rows {
            if !kernels.contains(row.kernel) { kernels.append(row.kernel) }
            if !strategies.contains(row.strategy) { strategies.append(row.strategy) }
        }
        // Legend: one swatch per strategy, then what pale and "fails" mean.
        var x = left
        for strategy in strategies {
            doc.rect(x, 64, 14, 14, fill: StrategyStyle.color(strategy))
            doc.text(x + 20, 76, strategy.rawValue, size: 12)
            x += 34 + Double(strategy.rawValue.count) * 7.5
        }
        doc.rect(x + 10, 64, 14, 14, fill: "#888888", stroke: "#555555", opacity: 0.35, dash: "3,2")
        doc.text(x + 30, 76, "projected, not run", size: 12)
        doc.text(x + 160, 76, "fails = the strategy does not work on that kernel", size: 12, fill: "#555555")

        let values = rows.filter(\.ok).map(\.projectedNanoseconds)
        let axis = LogAxis(covering: values.isEmpty ? [1, 10] : values, from: bottom, to: top, roomBelow: true)
        for decade in axis.decades {
            let y = axis.position(pow(10, Double(decade)))
            doc.line(left, y, right, y, stroke: decade == axis.lowDecade ? "#000000" : "#dddddd")
            doc.text(left - 8, y + 4, LogAxis.durationLabel(nanosecondsExponent: decade), size: 11, anchor: .end)
        }
        doc.line(left, top, left, bottom)
        doc.text(24, (top + bottom) / 2, "projected time (log scale)", size: 12, anchor: .middle, rotate: -90)

        let groupWidth = (right - left) / Double(max(kernels.count, 1))
        let barWidth = groupWidth * 0.72 / Double(max(strategies.count, 1))
        for (g, kernel) in kernels.enumerated() {
            let groupLeft = left + Double(g) * groupWidth + groupWidth * 0.14
            doc.text(left + (Double(g) + 0.5) * groupWidth, bottom + 22, kernel, size: 13, anchor: .middle, bold: true)
            if g > 0 { doc.line(left + Double(g) * groupWidth, top, left + Double(g) * groupWidth, bottom, stroke: "#f0f0f0") }
            for (s, strategy) in strategies.enumerated() {
                guard let row = rows.first(where: { $0.kernel == kernel && $0.strategy == strategy }) else { continue }
                let barX = groupLeft + Double(s) * barWidth
                let center = barX + barWidth / 2
                let tooltip = "\(kernel), \(strategy.rawValue): \(row.outcome); "
                    + "\(row.syscalls.total) syscalls, \(DurationText.estimate(rounding: row.projectedNanoseconds))"
                if row.ok {
                    let y = axis.position(row.projectedNanoseconds)
                    doc.rect(barX + 1, y, barWidth - 2, bottom - y, fill: StrategyStyle.color(strategy),
                             stroke: row.wasRun ? nil : StrategyStyle.color(strategy),
                             opacity: row.wasRun ? 1 : 0.35, dash: row.wasRun ? nil : "4,2", title: tooltip)
                    let label = DurationText.estimate(rounding: row.projectedNanoseconds)
                    if barWidth >= 46 {
                        doc.text(center, y - 5, label, size: 10, anchor: .middle)
                    } else {
                        doc.text(center + 3.5, y - 5, label, size: 10, rotate: -90)
                    }
                } else {
                    doc.text(center + 4, bottom - 6, "fails", size: 11, fill: StrategyStyle.color(strategy), rotate: -90)
                    doc.comment(tooltip)
                }
            }
        }
        doc.text(left, height - 40, "Each bar: syscalls made (or, where projected, counted exactly) x per-syscall "
                 + "costs measured on Linux \(costs.kernel).", size: 11, fill: "#555555")
        doc.text(left, height - 22, "Outcome per bar in `timer-criu compare` (the table); hover a bar for its outcome.",
                 size: 11, fill: "#555555")
        return doc.text
    }
}

extension Sweep {
    /// Two log-log panels sharing the time axis: one timer at ID x (left) and
    /// x timers at IDs 0..x-1 (right), one line per strategy.
    public func svg() -> String {
        let width = 1000.0, height = 600.0
        let top = 110.0, bottom = 470.0
        let panels: [(dense: Bool, left: Double, right: Double, title: String, xLabel: String)] = [
            (false, 92, 560, "one timer at ID x", "x = the timer's ID (log scale)"),
            (true, 640, 960, "x timers at IDs 0 ... x-1", "x = number of timers (log scale)"),
        ]
        var doc = SVGDocument(width: width, height: height)
        doc.text(92, 32, "Restoring POSIX timer IDs: cost by strategy", size: 18, bold: true)
        doc.text(92, 54, "projected time on a real kernel = syscalls x per-syscall costs measured on Linux "
                 + "\(costs.kernel) with \(costs.liveTimers) live timers", size: 12, fill: "#333333")

        let values = points.filter(\.row.ok).map(\.row.projectedNanoseconds)
        let yAxis = LogAxis(covering: values.isEmpty ? [1, 10] : values, from: bottom, to: top, roomBelow: true)
        let dash: [RestoreStrategy: String] = [.cursor: "9,5", .createAtID: "2,4"]
        let lineWidth: [RestoreStrategy: Double] = [.dance: 4, .cursor: 2.5, .createAtID: 2.5]

        // Legend.
        var x = 92.0
        for strategy in strategies {
            let kernel = points.first { $0.row.strategy == strategy }?.row.kernel ?? ""
            doc.line(x, 76, x + 34, 76, stroke: StrategyStyle.color(strategy), width: lineWidth[strategy] ?? 2,
                     dash: dash[strategy])
            let label = "\(strategy.rawValue) (\(kernel))"
            doc.text(x + 40, 80, label, size: 12)
            x += 60 + Double(label.count) * 6.8
        }
        doc.circle(x + 6, 76, r: 4, fill: "#555555", stroke: "#555555")
        doc.text(x + 14, 80, "run on the model", size: 12)
        doc.circle(x + 134, 76, r: 4, fill: "#ffffff", stroke: "#555555")
        doc.text(x + 142, 80, "projected from counts", size: 12)

        for panel in panels {
            let xs = points.filter { point in
                if case .dense = point.workload { return panel.dense }
                return !panel.dense
            }.map(\.workload.x)
            let xAxis = LogAxis(covering: xs.isEmpty ? [1, 10] : xs, from: panel.left, to: panel.right)
            // Grid and labels.
            for decade in yAxis.decades {
                let y = yAxis.position(pow(10, Double(decade)))
                doc.line(panel.left, y, panel.right, y, stroke: "#e4e4e4")
                doc.text(panel.left - 7, y + 4, LogAxis.durationLabel(nanosecondsExponent: decade), size: 11, anchor: .end)
            }
            for decade in xAxis.decades {
                let px = xAxis.position(pow(10, Double(decade)))
                doc.line(px, top, px, bottom, stroke: "#e4e4e4")
                doc.text(px, bottom + 18, LogAxis.powerOfTen(decade), size: 11, anchor: .middle)
            }
            // Reference times a reader knows.
            for (ns, label) in [(6e10, "1 min"), (3.6e12, "1 h")] where ns < pow(10, Double(yAxis.highDecade)) {
                let y = yAxis.position(ns)
                doc.line(panel.left, y, panel.right, y, stroke: "#999999", dash: "2,3")
                doc.text(panel.left + 4, y - 3, label, size: 10, fill: "#777777")
            }
            if !panel.dense {
                let px = xAxis.position(Double(Int32.max))
                doc.line(px, top, px, bottom, stroke: "#999999", dash: "2,3")
                doc.text(px - 3, bottom - 6, "INT_MAX", size: 10, anchor: .end, fill: "#777777")
            }
            doc.line(panel.left, bottom, panel.right, bottom)
            doc.line(panel.left, top, panel.left, bottom)
            doc.text((panel.left + panel.right) / 2, top - 10, panel.title, size: 14, anchor: .middle, bold: true)
            doc.text((panel.left + panel.right) / 2, bottom + 40, panel.xLabel, size: 12, anchor: .middle)

            for strategy in strategies {
                let series = self.series(strategy, dense: panel.dense).filter(\.row.ok)
                let color = StrategyStyle.color(strategy)
                let coordinates = series.map { (xAxis.position($0.workload.x), yAxis.position($0.row.projectedNanoseconds)) }
                doc.polyline(coordinates, stroke: color, width: lineWidth[strategy] ?? 2, dash: dash[strategy])
                for (point, (px, py)) in zip(series, coordinates) {
                    let title = "\(strategy.rawValue), \(point.workload.label): \(point.row.syscalls.total) syscalls, "
                        + DurationText.estimate(rounding: point.row.projectedNanoseconds) + (point.row.wasRun ? "" : " (projected)")
                    doc.circle(px, py, r: 3.5, fill: point.row.wasRun ? color : "#ffffff", stroke: color, title: title)
                }
                // The flat lines: the cost does not depend on the ID at all.
                if strategy != .dance, !panel.dense, strategy == strategies.last(where: { $0 != .dance }),
                   let first = coordinates.first, let last = coordinates.last {
                    let names = strategies.filter { $0 != .dance }.map(\.rawValue).joined(separator: ", ")
                    doc.text((first.0 + last.0) / 2, min(first.1, last.1) - 12,
                             "\(names): the same at every ID", size: 11, anchor: .middle, bold: true, fill: "#333333")
                }
                // The number people quote: the dance to the highest ID.
                if strategy == .dance, !panel.dense, let last = series.last, let end = coordinates.last {
                    doc.text(end.0 - 12, end.1 + 4, DurationText.estimate(rounding: last.row.projectedNanoseconds)
                             + " at ID \(last.workload.x == Double(Int32.max) ? "INT_MAX" : String(Int64(last.workload.x)))",
                             size: 11, anchor: .end, bold: true, fill: color)
                }
            }
        }
        doc.text(24, (top + bottom) / 2, "projected restore time (log scale)", size: 12, anchor: .middle, rotate: -90)
        doc.text(92, height - 62, "The dance costs a create+delete pair per ID below the highest one: linear in the highest ID.",
                 size: 12, fill: "#333333")
        doc.text(92, height - 44, "create-at-id costs one create per timer (plus 2 prctl): linear in the number of timers.",
                 size: 12, fill: "#333333")
        doc.text(92, height - 26, "The cursor costs a sysctl write plus a create per timer, and needs CAP_CHECKPOINT_RESTORE.",
                 size: 12, fill: "#333333")
        return doc.text
    }
}
