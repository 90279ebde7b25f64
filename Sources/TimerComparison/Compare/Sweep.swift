import TimerCore
import TimerFormats
/// The seed's picture as data: what restoring costs, by strategy, for one
/// timer at a growing ID and for a growing number of dense timers
/// (`compare --sweep`, docs/compare.md).
public struct Sweep: Sendable {
    public enum Workload: Hashable, Sendable {
        /// One timer at this ID.
        case singleAt(Int32)
        /// Timers 0 ..< n.
        case dense(Int)

        /// The x of the chart: the ID, or the number of timers.
        public var x: Double {
            switch self {
            case .singleAt(let id): return Double(id)
            case .dense(let n): return Double(n)
            }
        }

        /// The table's WORKLOAD: the series first, so that the dense series'
        /// first row (one timer, ID 0) does not read as a step of the other.
        public var label: String {
            switch self {
            case .singleAt(let id): return "single: 1 timer at ID \(id)"
            case .dense(let n): return n == 1 ? "dense: 1 timer (ID 0)" : "dense: \(n) timers (IDs 0..\(n - 1))"
            }
        }

        /// A checkpoint of that workload: monotonic, SIGALRM, disarmed timers.
        public var checkpoint: Checkpoint {
            let ids: [Int32]
            switch self {
            case .singleAt(let id): ids = [id]
            case .dense(let n): ids = (0..<Int32(n)).map { $0 }
            }
            let pid: Int32 = 100
            return Checkpoint(pid: pid, kernel: "sweep", threads: [pid], timers: ids.map {
                CheckpointTimer(id: $0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal,
                                notifyTarget: pid, valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0)
            })
        }
    }

    public struct Point: Sendable {
        public var workload: Workload
        public var row: CompareRow
    }

    /// 10, 100, ..., 10^9 and INT_MAX.
    public static let singleIDs: [Int32] = (1...9).map { exponent in
        (0..<exponent).reduce(Int32(1)) { value, _ in value * 10 }
    } + [Int32.max]
    /// 1, 10, ..., 100,000.
    public static let denseCounts: [Int] = (0...5).map { exponent in
        (0..<exponent).reduce(1) { value, _ in value * 10 }
    }

    public var points: [Point]
    public var strategies: [RestoreStrategy]
    public var costs: SyscallCosts
    public var runLimit: Int64

    /// Runs (or, for dances past `runLimit`, projects) every workload by every
    /// strategy, each on a fresh machine like `machine(strategy)`.
    public static func run<M: TimerMachine>(strategies: [RestoreStrategy], machine: (RestoreStrategy) -> M,
                                            costs: SyscallCosts, runLimit: Int64?,
                                            singleIDs: [Int32] = singleIDs, denseCounts: [Int] = denseCounts) -> Sweep {
        var points: [Point] = []
        let workloads = singleIDs.map(Workload.singleAt) + denseCounts.map(Workload.dense)
        for workload in workloads {
            let checkpoint = workload.checkpoint
            for strategy in strategies {
                let row = CompareMatrix.row(checkpoint, on: machine(strategy), strategy: strategy, costs: costs,
                                            runLimit: runLimit)
                points.append(Point(workload: workload, row: row))
            }
        }
        return Sweep(points: points, strategies: strategies, costs: costs, runLimit: runLimit ?? -1)
    }

    /// The points of one strategy for one kind of workload, in x order.
    public func series(_ strategy: RestoreStrategy, dense: Bool) -> [Point] {
        points.filter { point in
            guard point.row.strategy == strategy else { return false }
            if case .dense = point.workload { return dense }
            return !dense
        }
    }

    // MARK: Output

    public func text() -> String {
        var table = TextTable(headers: ["WORKLOAD", "STRATEGY", "KERNEL", "RUN", "CREATE", "DELETE", "PRCTL",
                                        "SYSCTL", "PROJECTED", "OUTCOME"],
                              rightAligned: [4, 5, 6, 7, 8])
        for point in points {
            let row = point.row
            table.rows.append([point.workload.label, row.strategy.rawValue, row.kernel,
                               row.wasRun ? "run" : "projected",
                               String(row.syscalls.timerCreate), String(row.syscalls.timerDelete),
                               String(row.syscalls.prctl), String(row.syscalls.sysctlWrite),
                               DurationText.estimate(rounding: row.projectedNanoseconds), row.outcome])
        }
        var lines = [table.text]
        lines.append("PROJECTED = wall time of a real restore (syscalls x per-syscall wall-time costs); 'projected' rows were not run "
            + "(a dance needing more than \(runLimit) creates: exact counts, checked on a copy with the ID gaps shrunk).")
        lines.append("The model kernels of the sweep have RLIMIT_SIGPENDING raised, so 100,000 timers fit.")
        lines.append(costs.summaryLine)
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() -> String {
        let pointList: [JSONOutput] = points.map { point in
            switch point.workload {
            case .singleAt(let id): return .object([("workload", .string("single")), ("id", .integer(id)), ("row", point.row.json)])
            case .dense(let n): return .object([("workload", .string("dense")), ("timers", .integer(n)), ("row", point.row.json)])
            }
        }
        return JSONOutput.object([
            ("run_limit", runLimit < 0 ? .null : .integer(runLimit)), ("costs", costs.json),
            ("points", .array(pointList, .lines)),
        ], .lines).documentText
    }
}
