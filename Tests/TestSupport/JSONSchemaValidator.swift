import Foundation
import TimerCore
import TimerFormats

/// A JSON Schema (2020-12) validator for the keywords docs/*.schema.json use.
/// Any other keyword is an error, so a schema cannot silently outgrow it.
public struct JSONSchemaValidator {
    public let root: JSONValue

    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$defs"]
    static let supported: Set<String> = annotations.union([
        "type", "required", "additionalProperties", "properties", "items", "uniqueItems", "const", "enum",
        "minimum", "maximum", "pattern", "$ref", "not", "minItems",
    ])

    public init(schema: JSONValue) { root = schema }

    /// Every violation, as `path: problem` (empty when valid).
    public func validate(_ instance: JSONValue) -> [String] {
        var problems: [String] = []
        check(instance, against: root, at: "$", problems: &problems)
        return problems
    }

    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node = root
        for part in reference.dropFirst(2).split(separator: "/") {
            guard let next = node[String(part)] else { return nil }
            node = next
        }
        return node
    }

    func check(_ value: JSONValue, against schema: JSONValue, at path: String, problems: inout [String]) {
        guard case let .object(keywords) = schema else {
            problems.append("\(path): schema is not an object")
            return
        }
        for (keyword, argument) in keywords {
            switch keyword {
            case _ where Self.annotations.contains(keyword):
                continue
            case "$ref":
                guard case let .string(reference) = argument, let target = resolve(reference) else {
                    problems.append("\(path): cannot resolve $ref \(argument)")
                    continue
                }
                check(value, against: target, at: path, problems: &problems)
            case "type":
                let names: [String]
                switch argument {
                case let .string(name): names = [name]
                case let .array(items): names = items.compactMap { if case let .string(s) = $0 { return s }; return nil }
                default: names = []
                }
                if !names.contains(where: { Self.hasType(value, $0) }) {
                    problems.append("\(path): expected type \(names.joined(separator: "|")), found \(value.kindName)")
                }
            case "required":
                guard case .object = value, case let .array(keys) = argument else { continue }
                for case let .string(key) in keys where value[key] == nil {
                    problems.append("\(path): missing required \"\(key)\"")
                }
            case "properties":
                guard case let .object(members) = value, case .object = argument else { continue }
                for (key, member) in members {
                    if let sub = argument[key] { check(member, against: sub, at: "\(path).\(key)", problems: &problems) }
                }
            case "additionalProperties":
                guard case let .object(members) = value else { continue }
                let declared = schema["properties"]
                for (key, _) in members where declared?[key] == nil {
                    if argument == .bool(false) { problems.append("\(path): property \"\(key)\" is not allowed") }
                }
            case "items":
                guard case let .array(elements) = value else { continue }
                for (i, element) in elements.enumerated() {
                    check(element, against: argument, at: "\(path)[\(i)]", problems: &problems)
                }
            case "minItems":
                guard case let .number(limitText) = argument, let limit = Int(limitText),
                      case let .array(elements) = value else { continue }
                if elements.count < limit { problems.append("\(path): \(elements.count) items, fewer than minItems \(limit)") }
            case "uniqueItems":
                guard argument == .bool(true), case let .array(elements) = value else { continue }
                if Set(elements).count != elements.count { problems.append("\(path): items are not unique") }
            case "const":
                if !Self.equal(value, argument) { problems.append("\(path): must be \(argument)") }
            case "enum":
                guard case let .array(options) = argument else { continue }
                if !options.contains(where: { Self.equal(value, $0) }) { problems.append("\(path): \(value) not in enum") }
            case "minimum", "maximum":
                guard case let .number(limitText) = argument, let limit = Double(limitText) else { continue }
                guard case let .number(text) = value, let n = Double(text) else { continue }
                if keyword == "minimum" ? n < limit : n > limit {
                    problems.append("\(path): \(text) violates \(keyword) \(limitText)")
                }
            case "pattern":
                guard case let .string(pattern) = argument, case let .string(text) = value else { continue }
                guard let regex = try? NSRegularExpression(pattern: pattern) else {
                    problems.append("\(path): bad pattern \(pattern)")
                    continue
                }
                let range = NSRange(text.startIndex..., in: text)
                if regex.firstMatch(in: text, range: range) == nil {
                    problems.append("\(path): \"\(text)\" does not match \(pattern)")
                }
            case "not":
                var inner: [String] = []
                check(value, against: argument, at: path, problems: &inner)
                if inner.isEmpty { problems.append("\(path): \(value) matches a \"not\" schema") }
            default:
                problems.append("\(path): unsupported schema keyword \(keyword)")
            }
        }
    }

    static func hasType(_ value: JSONValue, _ name: String) -> Bool {
        switch (name, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
             ("number", .number):
            return true
        case let ("integer", .number(text)):
            return Int64(text) != nil || (Double(text).map { $0 == $0.rounded() } ?? false)
        default:
            return false
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if case let .number(x) = a, case let .number(y) = b { return Double(x) == Double(y) }
        return a == b
    }
}
