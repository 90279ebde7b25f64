import Foundation
import TestSupport
import XCTest

/// Every relative link in README.md and docs/*.md resolves inside the repo
/// (a clone has nothing outside it), and nothing cites the reading material
/// the repo does not carry (../shared/KERNEL-FACTS.md): kernel facts are cited
/// from docs/kernel-facts.md.
final class DocLinkTests: XCTestCase {
    static let root = BuiltProducts.repositoryRoot

    static func markdownFiles() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root + "/docs")
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return ["README.md"] + docs
    }

    /// The targets of `[text](target)` and `![alt](target)` outside code
    /// (fenced blocks, indented blocks, `inline code`).
    static func linkTargets(in text: String) -> [String] {
        var targets: [String] = []
        var fenced = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { fenced.toggle(); continue }
            if fenced || line.hasPrefix("    ") || line.hasPrefix("\t") { continue }
            // Drop inline code spans.
            var prose = ""
            var inCode = false
            for c in line {
                if c == "`" { inCode.toggle(); continue }
                if !inCode { prose.append(c) }
            }
            var rest = Substring(prose)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                targets.append(String(after[..<close]))
                rest = after[after.index(after: close)...]
            }
        }
        return targets
    }

    func testEveryRelativeLinkResolves() throws {
        var checked = 0
        for file in try Self.markdownFiles() {
            let text = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8)
            let directory = (file as NSString).deletingLastPathComponent
            for target in Self.linkTargets(in: text) {
                if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:")
                    || target.hasPrefix("#") { continue }
                let path = String(target.split(separator: "#", maxSplits: 1).first ?? "")
                let resolved = ((Self.root + "/" + directory) as NSString).appendingPathComponent(path)
                let standardized = (resolved as NSString).standardizingPath
                XCTAssertTrue(standardized.hasPrefix(Self.root + "/"), "\(file): link \(target) leaves the repository")
                XCTAssertTrue(FileManager.default.fileExists(atPath: standardized), "\(file): link \(target) does not resolve")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20, "the link scanner found almost no links: is it broken?")
    }

    func testTheScannerSeesABrokenLink() {
        XCTAssertEqual(Self.linkTargets(in: "see [a](docs/x.md) and `[b](not.md)`\n    [c](code.md)\n![i](p.svg)"),
                       ["docs/x.md", "p.svg"])
    }

    /// No citation of the shared reading material in docs, README or code.
    func testNothingCitesFilesOutsideTheRepository() throws {
        var files = try Self.markdownFiles()
        let enumerator = FileManager.default.enumerator(atPath: Self.root + "/Sources")
        while let entry = enumerator?.nextObject() as? String {
            if [".swift", ".c", ".h"].contains(where: { entry.hasSuffix($0) }) { files.append("Sources/" + entry) }
        }
        for file in files {
            let text = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8)
            XCTAssertFalse(text.contains("KERNEL-FACTS"), "\(file) cites KERNEL-FACTS (cite docs/kernel-facts.md)")
            XCTAssertFalse(text.contains("../shared"), "\(file) refers to ../shared, which a clone does not have")
        }
    }
}
