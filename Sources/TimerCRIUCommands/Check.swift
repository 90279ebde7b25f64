import ArgumentParser
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu check`: what this host kernel offers for dumping and restoring
/// timers, one line per feature (like `criu check`). docs/restore.md.
public struct Check: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Check what this machine's kernel offers for dumping and restoring timers.",
        discussion: """
            One line per feature: ok or missing, and why. Features marked required are \
            needed by dump (/proc/PID/timers; ptrace for --values) or restore (room under \
            RLIMIT_SIGPENDING); the others only make something cheaper or possible \
            (create-at-id instead of the dance, alarm clocks). The probes that could \
            change the tool's own process (ptrace, an alarm-clock timer) run in a forked \
            child, killed and reaped by its pid. Exit codes: 0 dump and restore both \
            work here (even when dump --values does not: the last line says so), 1 dump \
            or restore cannot work (the missing feature named on the last line).
            """
    )

    @Flag(help: "Print one JSON object: ok, kernel, dump, dump_values, restore, restore_strategy, missing, features.")
    var json = false

    public init() {}

    public func run() throws {
        let report = HostFeatures.probe()
        StandardStream.output.write(json ? Self.json(report) : Self.text(report))
        if !report.ok { throw ExitCode(TimerCRIUExit.failed) }
    }

    static func works(_ report: HostFeatureReport, _ names: [String]) -> Bool {
        names.allSatisfy { report[$0]?.ok ?? false }
    }

    /// The human form: a header, one aligned line per feature, a verdict.
    static func text(_ report: HostFeatureReport) -> String {
        var out = "timer-criu check: host kernel \(report.kernelRelease)\n"
        var table = TextTable(headers: nil, minimumWidths: [0, "MISSING".count])
        for feature in report.features {
            // MISSING: required and absent (JSON "missing"); absent: optional (JSON "absent").
            let verdict = feature.ok ? "ok" : (feature.required ? "MISSING" : "absent")
            table.rows.append([feature.name, verdict, feature.detail + " ["
                + (feature.required ? "required: " : "optional: ") + feature.neededBy + "]"])
        }
        out += table.text
        let dump = works(report, ["proc-timers"])
        let values = works(report, ["proc-timers", "ptrace"])
        let restore = works(report, ["proc-timers", "sigpending"])
        out += "dump: \(dump ? "works" : "does not work"); dump --values: \(values ? "works" : "does not work"); "
            + "restore --kernel host: " + (restore ? "works (auto uses \(report.restoreStrategy.rawValue))" : "does not work") + "\n"
        if report.ok && values {
            out += "Looks good: dump and restore both work here.\n"
        } else if report.ok {
            out += "Dump and restore work here; dump --values does not: "
                + report.missing.map { "\($0.name) (\($0.detail))" }.joined(separator: "; ") + "\n"
        } else {
            out += "Missing: " + report.missing.map { "\($0.name) (\($0.detail))" }.joined(separator: "; ") + "\n"
        }
        return out
    }

    static func json(_ report: HostFeatureReport) -> String {
        JSONOutput.object([
            ("ok", .bool(report.ok)), ("kernel", .string(report.kernelRelease)),
            ("dump", .bool(works(report, ["proc-timers"]))),
            ("dump_values", .bool(works(report, ["proc-timers", "ptrace"]))),
            ("restore", .bool(works(report, ["proc-timers", "sigpending"]))),
            ("restore_strategy", .string(report.restoreStrategy.rawValue)),
            ("missing", .strings(report.missing.map(\.name))),
            ("absent", .strings(report.features.filter { !$0.ok && !$0.required }.map(\.name))),
            ("features", .array(report.features.map { feature in
                .object([
                    ("name", .string(feature.name)), ("ok", .bool(feature.ok)), ("required", .bool(feature.required)),
                    ("needed_by", .string(feature.neededBy)), ("detail", .string(feature.detail)),
                    ("values", .object(feature.values.map { ($0.key, .integer($0.value)) })),
                ])
            }, .lines)),
        ], .lines).documentText
    }
}
