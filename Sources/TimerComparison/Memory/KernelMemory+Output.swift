import TimerCore
import TimerFormats
/// The table and JSON of `timer-criu memory` (docs/memory.md).
extension KernelMemory {
    public func text(name: String) -> String {
        let idText = maxID.map { "highest ID \($0)" } ?? "no timers"
        let who = processes == 1 ? "1 process" : "\(processes) processes"
        var table = TextTable(headers: ["DESIGN", "KERNELS", "TIMERS", "TIMER BYTES", "INDEX NODES", "INDEX BYTES",
                                        "TOTAL BYTES", "PER TIMER", "VS DENSE"],
                              rightAligned: [2, 3, 4, 5, 6, 7, 8])
        for row in rows {
            table.rows.append([row.design.rawValue, row.kernels.joined(separator: ","), String(row.timers),
                               String(row.timerBytes), String(row.indexNodes), String(row.indexBytes),
                               String(row.totalBytes), ByteText.perTimer(row.bytesPerTimer),
                               ByteText.ratio(row.ratioToDense)])
        }
        var lookupTable = TextTable(headers: ["KERNEL", "INDEX", "LOOKUP BY ID"])
        for lookup in lookups {
            lookupTable.rows.append([lookup.kernel, lookup.indexText, lookup.costText])
        }
        var lines = ["\(name): \(timers) timer(s) in \(who), \(idText)", "", table.text]
        lines.append("TIMER BYTES = timers x (struct k_itimer \(sizes.kItimer) + struct sigqueue \(sizes.sigqueue) "
            + "where it is a separate object, before 6.13); INDEX BYTES = nodes x \(sizes.xarrayNode) "
            + "(xarray: radix_tree_node) or x \(sizes.idrLayer) (2.6 idr_layer).")
        lines.append("VS DENSE = TOTAL BYTES / the same count of timers at IDs 0, 1, 2, ... in each process.")
        lines.append("The global hash table is the machine's, sized once at boot (3.10-6.14: 512 buckets x 8 bytes; "
            + "6.15+: roundup_pow_of_two(512 x possible CPUs) x 16 bytes): the IDs add nothing to it.")
        if rows.contains(where: { $0.design == .globalIDR }) {
            if let maxID, maxID >= 1 << 30 {
                lines.append("note (global-idr): 2.6's IDR grew to 5 layers at most (idr_get_empty_slot: layers < "
                    + "MAX_LEVEL - 1), so IDs from 2^30 up did not exist there; the figure counts the 6th layer they need.")
            }
            lines.append("note (global-idr): the IDR also keeps up to IDR_FREE_MAX = 12 spare layers (idr_pre_get before "
                + "every create), \(12 * sizes.idrLayer) bytes for the whole machine.")
        }
        lines.append("sizes: \(sizes.source)")
        lines.append("")
        lines.append(lookupTable.text)
        lines.append("LOOKUP BY ID: what timer_settime/timer_gettime/timer_delete (and, before 6.13, the rearm at "
            + "signal delivery) walk to find a timer. Hash chains hold these timers only, with signal_struct at "
            + "0x\(String(signalStruct, radix: 16)) (the bucket depends on the kernel's pointer).")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"timers": N, "designs": [...]}` with exactly the keys of docs/memory.md.
    public func json() -> String { jsonObject.documentText }

    public var jsonObject: JSONOutput {
        .object([
            ("timers", .integer(timers)),
            ("designs", .array(rows.map { row in
                .object([("design", .string(row.design.rawValue)), ("kernels", .strings(row.kernels)),
                         ("timer_bytes", .integer(row.timerBytes)), ("index_nodes", .integer(row.indexNodes)),
                         ("index_bytes", .integer(row.indexBytes)), ("total_bytes", .integer(row.totalBytes))])
            }, .lines)),
        ])
    }
}

extension KernelMemory.Lookup {
    var indexText: String {
        switch index {
        case .globalHash: return hash?.summary ?? "hash"
        case .perProcessXArray: return "xarray per process"
        case .globalIDR: return "one IDR for the machine"
        }
    }

    var costText: String {
        switch index {
        case .globalHash:
            guard let chains else { return "-" }
            return "\(chains.usedBuckets) bucket(s) used, longest chain \(chains.longest), "
                + "mean chain walked \(ByteText.twoDecimals(chains.meanWalked))"
        case .perProcessXArray:
            return treeHeight == 0 ? "0 nodes (a lone entry at index 0 sits in xa_head)"
                : "xa_load walks \(treeHeight) node(s)"
        case .globalIDR:
            return "idr_find walks \(treeHeight) layer(s)"
        }
    }
}

/// Byte figures as the memory tables print them.
public enum ByteText {
    /// "384", "1201.6".
    public static func perTimer(_ bytes: Double) -> String { oneDecimal(bytes) }

    /// "1.00x", "3.13x".
    public static func ratio(_ value: Double) -> String { twoDecimals(value) + "x" }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int64((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
    }

    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// "512 B", "36.0 KiB", "110.4 MiB".
    public static func size(_ bytes: Double) -> String {
        if bytes < 1024 { return "\(Int64(bytes)) B" }
        if bytes < 1024 * 1024 { return oneDecimal(bytes / 1024) + " KiB" }
        if bytes < 1024 * 1024 * 1024 { return oneDecimal(bytes / 1024 / 1024) + " MiB" }
        return oneDecimal(bytes / 1024 / 1024 / 1024) + " GiB"
    }
}
