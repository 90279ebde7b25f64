import HostKernel
import ArgumentParser
import Foundation
import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu kernels`: the model profiles, one line each, with the restore
/// strategies each supports.
public struct Kernels: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "List the model kernel profiles and the restore strategies each supports.",
        discussion: """
            One line per profile: its name, the strategies (dance, cursor, create-at-id; \
            "dance(breaks)" where a deleted ID comes back at once, so the dance cannot \
            reach an ID), and what it models. docs/model-kernel.md has the details.
            """
    )

    @Flag(help: "Print the profiles as JSON.")
    var json = false

    public init() {}

    /// The strategies as `kernels` prints them.
    static func strategies(of profile: KernelProfile) -> [String] {
        var names = [profile.danceWorks ? "dance" : "dance(breaks)"]
        if profile.restoreInterfaces.contains(.cursor) { names.append("cursor") }
        if profile.restoreInterfaces.contains(.createAtID) { names.append("create-at-id") }
        return names
    }

    static func table() -> String {
        var table = TextTable(headers: nil)
        table.rows = KernelProfile.allCases.map {
            [$0.rawValue, strategies(of: $0).joined(separator: ","), $0.summary]
        }
        return table.text
    }

    /// `{"kernels": [...]}`, one profile per line: name, summary,
    /// id_allocation, strategies ("works", "breaks" or "unsupported" for dance,
    /// cursor and create-at-id) and restore_interfaces.
    static func json() -> String {
        JSONOutput.object([("kernels", .array(KernelProfile.allCases.map { profile in
            let interfaces = profile.restoreInterfaces
            var names: [String] = []
            if interfaces.contains(.createAtID) { names.append("prctl(PR_TIMER_CREATE_RESTORE_IDS)") }
            if interfaces.contains(.cursor) { names.append("timer ID cursor sysctl") }
            return .object([
                ("name", .string(profile.rawValue)), ("summary", .string(profile.summary)),
                ("id_allocation", .string(profile.allocationRule)),
                ("strategies", .object([
                    ("dance", .string(profile.danceWorks ? "works" : "breaks")),
                    ("cursor", .string(interfaces.contains(.cursor) ? "works" : "unsupported")),
                    ("create-at-id", .string(interfaces.contains(.createAtID) ? "works" : "unsupported")),
                ])),
                ("restore_interfaces", .strings(names)),
            ])
        }, .lines))]).documentText
    }

    public func run() throws {
        if json {
            StandardStream.output.write(Self.json())
        } else {
            StandardStream.output.write(Self.table())
        }
    }
}
