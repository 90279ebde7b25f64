import TimerCore
import TimerFormats
/// What one syscall of each kind costs on a real kernel, in nanoseconds: the
/// figures `compare` multiplies syscall counts by (docs/compare.md).
/// `timer-criu calibrate` measures them on the host; `.measured618` are the
/// defaults.
public struct SyscallCosts: Hashable, Sendable {
    /// One timer_create plus one timer_delete in a loop: a dance step.
    public var createDeletePair: Double
    /// A plain timer_create (the counter picks the ID).
    public var create: Double
    /// A timer_create in create-at-ID mode (Linux 6.15+).
    public var createAtID: Double
    /// A timer_delete on its own.
    public var delete: Double
    /// A timer_settime arming a timer.
    public var settime: Double
    /// prctl(PR_TIMER_CREATE_RESTORE_IDS, ON or OFF).
    public var prctl: Double
    /// A write of an ID to the proposed cursor sysctl. No kernel has it: this
    /// is a proxy, an integer write() to /proc/self/timerslack_ns (see Calibration).
    public var sysctlWrite: Double
    /// `uname -r` of the kernel measured.
    public var kernel: String
    /// How many other timers were live while measuring (cost grows with
    /// them, docs/kernel-facts.md section 2).
    public var liveTimers: Int
    /// One line: who measured what, how.
    public var source: String

    public init(createDeletePair: Double, create: Double, createAtID: Double, delete: Double, settime: Double,
                prctl: Double, sysctlWrite: Double, kernel: String, liveTimers: Int, source: String) {
        self.createDeletePair = createDeletePair
        self.create = create
        self.createAtID = createAtID
        self.delete = delete
        self.settime = settime
        self.prctl = prctl
        self.sysctlWrite = sysctlWrite
        self.kernel = kernel
        self.liveTimers = liveTimers
        self.source = source
    }

    /// The defaults: measured by `timer-criu calibrate` (release build, 7
    /// rounds x 20,000 calls, wall time, medians; the pair from 7 host dances
    /// to ID 100,000 in a fresh helper) on this project's host, Linux
    /// 6.18.44-fc-v973 x86-64, 2 cores, 2026-12-01, load average about 11,
    /// with 1,000 live timers; docs/costs-6.18.json is that run's file. They
    /// project the wall time of a real restore.
    public static let measured618 = SyscallCosts(
        createDeletePair: 1682.9, create: 776.4, createAtID: 728.2, delete: 1046.6, settime: 462.7, prctl: 247.9,
        sysctlWrite: 428.6, kernel: "6.18.44-fc-v973", liveTimers: 1000,
        source: "built-in defaults measured by timer-criu calibrate on Linux 6.18.44, wall time, 2026-12-01 (docs/costs-6.18.json)")

    // MARK: Projection

    /// The time `counts` would take on the measured kernel, in nanoseconds.
    /// Creates paired with deletes (the dance's steps) cost a pair each; the
    /// creates of a create-at-ID restore cost `createAtID`; everything else its
    /// own figure. timer_gettime/getoverrun are not restore syscalls (only
    /// the verification reads them) and cost nothing here.
    public func projectedNanoseconds(_ counts: SyscallCounts, strategy: RestoreStrategy) -> Double {
        let creates = Double(counts.timerCreate)
        let deletes = Double(counts.timerDelete)
        var total = Double(counts.timerSettime) * settime + Double(counts.prctl) * prctl
            + Double(counts.sysctlWrite) * sysctlWrite
        if strategy == .createAtID {
            total += creates * createAtID + deletes * delete
        } else {
            let pairs = min(creates, deletes)
            total += pairs * createDeletePair + (creates - pairs) * create + (deletes - pairs) * delete
        }
        return total
    }

    /// A projected time as the integer the JSON output carries, saturated at
    /// Int64.max ns (292 years) instead of trapping: a tree of many
    /// processes each dancing to INT_MAX adds up past it.
    public static func integerNanoseconds(_ nanoseconds: Double) -> Int64 {
        guard nanoseconds.isFinite else { return nanoseconds < 0 ? 0 : .max }
        if nanoseconds >= 9.223372036854775e18 { return .max }
        if nanoseconds <= 0 { return 0 }
        return Int64(nanoseconds.rounded())
    }

    /// The figures in file order, with their JSON names.
    public var figures: [(name: String, nanoseconds: Double)] {
        [("create_delete_pair", createDeletePair), ("create", create), ("create_at_id", createAtID),
         ("delete", delete), ("settime", settime), ("prctl", prctl), ("sysctl_write", sysctlWrite)]
    }
}

// MARK: The costs file

/// A costs file that cannot be used; `compare` exits 2 for it.
public struct CostsFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

extension SyscallCosts {
    /// The `format` member of every costs file.
    public static let formatName = "timer-criu-costs/1"

    /// The costs file (docs/compare.md): one object, every member required,
    /// no others.
    public func jsonBytes() -> [UInt8] { json.document }

    /// The costs file's object (`compare --json` nests it as `costs`).
    public var json: JSONOutput {
        .object([
            ("format", .string(Self.formatName)), ("kernel", .string(kernel)), ("live_timers", .integer(liveTimers)),
            ("source", .string(source)),
            ("nanoseconds", .object(figures.map { ($0.name, .raw(Self.formatNumber($0.nanoseconds))) }, .lines)),
        ], .lines)
    }

    /// A figure with at most one decimal, no exponent ("812.4", "450").
    static func formatNumber(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        let whole = Int64(tenths / 10)
        let fraction = Int64(tenths) - whole * 10
        return fraction == 0 ? String(whole) : "\(whole).\(abs(fraction))"
    }

    /// The range a per-syscall figure must be in, in nanoseconds: 1 ns (no
    /// syscall is faster; a denormal such as 5e-324 "> 0" made every chart
    /// coordinate infinite) to 1 ms (the slowest measured, a create with a
    /// million live timers, is about 2 us). At 1 ms a dance to ID INT_MAX
    /// projects to 2.1e15 ns, far from Int64.max (9.2e18).
    public static let figureRange: ClosedRange<Double> = 1...1_000_000

    /// Reads a costs file strictly: the exact members, each figure a finite
    /// number in `figureRange`.
    public init(json bytes: [UInt8], path: String) throws(CostsFileError) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw CostsFileError(path: path, problem: "not JSON: \(error)")
        }
        guard case let .object(members) = document else {
            throw CostsFileError(path: path, problem: "expected an object, found \(document.kindName)")
        }
        let known = ["format", "kernel", "live_timers", "source", "nanoseconds"]
        for (key, _) in members where !known.contains(key) {
            throw CostsFileError(path: path, problem: "unknown member \"\(key)\" (expected \(known.joined(separator: ", ")))")
        }
        func member(_ key: String) throws(CostsFileError) -> JSONValue {
            guard let value = document[key] else { throw CostsFileError(path: path, problem: "missing member \"\(key)\"") }
            return value
        }
        func string(_ key: String) throws(CostsFileError) -> String {
            guard case let .string(s) = try member(key) else {
                throw CostsFileError(path: path, problem: "\(key): expected a string, found \(try member(key).kindName)")
            }
            return s
        }
        let format = try string("format")
        guard format == Self.formatName else {
            throw CostsFileError(path: path, problem: "format: \"\(format)\" is not \"\(Self.formatName)\"")
        }
        let kernel = try string("kernel")
        let source = try string("source")
        let live = try member("live_timers")
        guard let liveTimers = live.integer, liveTimers >= 0, liveTimers <= Int64(Int32.max) else {
            throw CostsFileError(path: path, problem: "live_timers: expected an integer 0...2147483647")
        }
        guard case let .object(figureMembers) = try member("nanoseconds") else {
            throw CostsFileError(path: path, problem: "nanoseconds: expected an object, found \(try member("nanoseconds").kindName)")
        }
        let names = Self.measured618.figures.map(\.name)
        var values: [String: Double] = [:]
        for (key, value) in figureMembers {
            guard names.contains(key) else {
                throw CostsFileError(path: path, problem: "nanoseconds.\(key): unknown figure (expected \(names.joined(separator: ", ")))")
            }
            guard case let .number(text) = value, let number = Double(text), number.isFinite else {
                throw CostsFileError(path: path, problem: "nanoseconds.\(key): expected a number, found \(value.kindName)")
            }
            guard Self.figureRange.contains(number) else {
                throw CostsFileError(path: path, problem: "nanoseconds.\(key): \(EchoedText.cut(text)) is not a cost (must be 1 to 1000000 ns)")
            }
            values[key] = number
        }
        for name in names where values[name] == nil {
            throw CostsFileError(path: path, problem: "nanoseconds: missing figure \"\(name)\"")
        }
        self.init(createDeletePair: values["create_delete_pair"]!, create: values["create"]!,
                  createAtID: values["create_at_id"]!, delete: values["delete"]!, settime: values["settime"]!,
                  prctl: values["prctl"]!, sysctlWrite: values["sysctl_write"]!, kernel: kernel,
                  liveTimers: Int(liveTimers), source: source)
    }

    /// Reads the costs file at `path` (errors name the file).
    public static func load(path: String, files: some InputFiles) throws(CostsFileError) -> SyscallCosts {
        let bytes: [UInt8]
        do { bytes = try files.read(path) } catch {
            throw CostsFileError(path: CheckpointSource.displayName(path), problem: error.problem)
        }
        return try SyscallCosts(json: bytes, path: CheckpointSource.displayName(path))
    }
}
