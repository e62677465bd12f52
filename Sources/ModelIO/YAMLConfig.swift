import Foundation
import Yams

/// A YAML value with map keys kept in file order, so a resolved config prints as it was written.
public indirect enum ConfigValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigValue])
    case map([(String, ConfigValue)])

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> ConfigValue? {
        if case let .map(m) = self { return m.first { $0.0 == key }?.1 }
        return nil
    }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .list: return "a list"
        case .map: return "a mapping"
        }
    }

    /// `base` updated with `update`: nested maps merge key by key, everything else is replaced —
    /// the original's `recursive_update`.
    public static func merged(_ base: ConfigValue, _ update: ConfigValue) -> ConfigValue {
        guard case var .map(b) = base, case let .map(u) = update else { return update }
        for (k, v) in u {
            if let i = b.firstIndex(where: { $0.0 == k }) {
                if case .map = v { b[i].1 = merged(b[i].1, v) } else { b[i].1 = v }
            } else {
                if case .map = v { b.append((k, merged(.map([]), v))) } else { b.append((k, v)) }
            }
        }
        return .map(b)
    }

    /// Block-style YAML that Yams and PyYAML read back to the same value.
    public func yaml() -> String {
        var out = ""
        emit(into: &out, indent: 0)
        return out
    }

    private func emit(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent)
        switch self {
        case let .map(m):
            if m.isEmpty { out += pad + "{}\n"; return }
            for (k, v) in m {
                switch v {
                case let .map(inner) where !inner.isEmpty:
                    out += pad + ConfigValue.scalarKey(k) + ":\n"
                    v.emit(into: &out, indent: indent + 1)
                case let .list(items) where !items.isEmpty:
                    out += pad + ConfigValue.scalarKey(k) + ":\n"
                    v.emit(into: &out, indent: indent + 1)
                default:
                    out += pad + ConfigValue.scalarKey(k) + ": " + v.inline() + "\n"
                }
            }
        case let .list(items):
            if items.isEmpty { out += pad + "[]\n"; return }
            for v in items { out += pad + "- " + v.inline() + "\n" }
        default:
            out += pad + inline() + "\n"
        }
    }

    /// One-line (flow) form.
    func inline() -> String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d):
            if d.isNaN { return ".nan" }
            if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
            var s = "\(d)"
            // YAML 1.1 (PyYAML) only reads exponents with a dot in the mantissa: 1e-07 → 1.0e-07.
            if let e = s.firstIndex(of: "e"), !s[..<e].contains(".") { s.insert(contentsOf: ".0", at: e) }
            return s
        case let .string(s): return SafetensorsWriter.jsonString(s)
        case let .list(items): return "[" + items.map { $0.inline() }.joined(separator: ", ") + "]"
        case let .map(m): return "{" + m.map { ConfigValue.scalarKey($0.0) + ": " + $0.1.inline() }.joined(separator: ", ") + "}"
        }
    }

    static func scalarKey(_ k: String) -> String {
        let plain = !k.isEmpty && k.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
            && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(k.lowercased()) && Int(k) == nil && Double(k) == nil
        return plain ? k : SafetensorsWriter.jsonString(k)
    }
}

/// Loads the original's YAML configs: `__base__: !include path` pulls in another file (relative to
/// the including file) which the rest of the file then updates recursively. `!include` elsewhere
/// inlines the included file's value. Include cycles and missing files are errors.
public enum YAMLConfig {
    public static func load(path: String) throws -> ConfigValue {
        try load(path: (path as NSString).standardizingPath, chain: [])
    }

    /// Parses YAML text as if it were the file `path` (includes resolve relative to it).
    public static func parse(_ text: String, path: String) throws -> ConfigValue {
        try resolve(text, path: path, chain: [path])
    }

    private static func load(path: String, chain: [String]) throws -> ConfigValue {
        let abs = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let canonical = (abs as NSString).standardizingPath
        guard !chain.contains(canonical) else {
            throw ModelIOError.config(file: chain.last ?? path, key: "__base__",
                                      reason: "include cycle: " + (chain + [canonical]).joined(separator: " → "))
        }
        func failure(_ reason: String) -> ModelIOError {
            .config(file: chain.last ?? path, key: chain.isEmpty ? "" : "__base__", reason: reason)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: canonical, isDirectory: &isDirectory) else { throw failure("no such file '\(canonical)'") }
        guard !isDirectory.boolValue else { throw failure("'\(canonical)' is a directory, not a YAML file") }
        guard let data = FileManager.default.contents(atPath: canonical) else { throw failure("cannot read '\(canonical)'") }
        guard let text = String(data: data, encoding: .utf8) else { throw failure("'\(canonical)' is not UTF-8 text, so not a YAML config") }
        return try resolve(text, path: canonical, chain: chain + [canonical])
    }

    /// Most YAML nodes one file may expand to: aliases can make a small file expand exponentially.
    static let maxNodes = 100_000

    private static func resolve(_ text: String, path: String, chain: [String]) throws -> ConfigValue {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ModelIOError.config(file: path, key: "", reason: "not valid YAML: \(error)")
        }
        guard let node else { return .map([]) }
        var budget = maxNodes
        return try convert(node, path: path, chain: chain, key: "", budget: &budget)
    }

    private static func convert(_ node: Node, path: String, chain: [String], key: String, budget: inout Int) throws -> ConfigValue {
        budget -= 1
        guard budget > 0 else {
            throw ModelIOError.config(file: path, key: key, reason: "expands to more than \(maxNodes) values (alias bomb?)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        switch node {
        case let .scalar(s):
            if s.tag.description == "!include" {
                let target = s.string.hasPrefix("/") ? s.string : dir + "/" + s.string
                return try load(path: target, chain: chain)
            }
            if s.tag.description.hasPrefix("!") {
                throw ModelIOError.config(file: path, key: key, reason: "unknown tag \(s.tag.description) (only !include is supported)")
            }
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: if let b = node.bool { return .bool(b) }
            case Tag.Name.int.rawValue: if let i = node.int { return .int(i) }
            case Tag.Name.float.rawValue: if let d = node.float { return .double(d) }
            default: break
            }
            return .string(s.string)
        case let .sequence(seq):
            var items: [ConfigValue] = []
            for (i, v) in seq.enumerated() { items.append(try convert(v, path: path, chain: chain, key: "\(key)[\(i)]", budget: &budget)) }
            return .list(items)
        case let .mapping(m):
            var pairs: [(String, ConfigValue)] = []
            var base: ConfigValue?
            for (k, v) in m {
                guard case let .scalar(ks) = k else {
                    throw ModelIOError.config(file: path, key: key, reason: "a mapping key is not a plain string")
                }
                let name = ks.string
                let full = key.isEmpty ? name : key + "." + name
                let value = try convert(v, path: path, chain: chain, key: full, budget: &budget)
                if name == "__base__" {
                    guard case .map = value else {
                        throw ModelIOError.config(file: path, key: full, reason: "must include a file holding a mapping")
                    }
                    base = value
                } else {
                    pairs.removeAll { $0.0 == name }
                    pairs.append((name, value))
                }
            }
            if let base { return ConfigValue.merged(base, .map(pairs)) }
            return .map(pairs)
        }
    }
}

/// Reads typed fields out of a resolved config, remembering which keys were used so that the rest
/// can be reported as unknown (a warning: probably a typo).
public final class ConfigReader {
    let file: String
    let prefix: String
    let map: [(String, ConfigValue)]
    private(set) var used: Set<String> = []
    private var children: [ConfigReader] = []

    public init(_ value: ConfigValue, file: String, prefix: String = "") throws {
        guard case let .map(m) = value else {
            throw ModelIOError.config(file: file, key: prefix, reason: "expected a mapping, found \(value.typeName)")
        }
        self.file = file; self.prefix = prefix; self.map = m
    }

    private func full(_ k: String) -> String { prefix.isEmpty ? k : prefix + "." + k }

    private func raw(_ key: String) -> ConfigValue? {
        used.insert(key)
        return map.last { $0.0 == key }?.1
    }

    private func required(_ key: String) throws -> ConfigValue {
        guard let v = raw(key) else { throw ModelIOError.config(file: file, key: full(key), reason: "missing (required)") }
        return v
    }

    private func wrong(_ key: String, _ want: String, _ v: ConfigValue) -> ModelIOError {
        .config(file: file, key: full(key), reason: "expected \(want), found \(v.typeName) \(v.inline())")
    }

    public func int(_ key: String) throws -> Int {
        let v = try required(key)
        guard case let .int(i) = v else { throw wrong(key, "an integer", v) }
        return i
    }

    /// An integer that may be `null`, like `dataloader_prefetch_factor: null` (what PyTorch's
    /// DataLoader needs with no worker processes).
    public func optionalInt(_ key: String) throws -> Int? {
        let v = try required(key)
        if case .null = v { return nil }
        guard case let .int(i) = v else { throw wrong(key, "an integer or null", v) }
        return i
    }

    public func double(_ key: String) throws -> Double {
        let v = try required(key)
        switch v {
        case let .double(d): return d
        case let .int(i): return Double(i)
        default: throw wrong(key, "a number", v)
        }
    }

    public func bool(_ key: String) throws -> Bool {
        let v = try required(key)
        guard case let .bool(b) = v else { throw wrong(key, "true or false", v) }
        return b
    }

    public func string(_ key: String) throws -> String {
        let v = try required(key)
        guard case let .string(s) = v else { throw wrong(key, "a string", v) }
        return s
    }

    /// A string that may be `null` (required key, optional value), like `model_path: null`.
    public func optionalString(_ key: String) throws -> String? {
        let v = try required(key)
        if case .null = v { return nil }
        guard case let .string(s) = v else { throw wrong(key, "a string or null", v) }
        return s
    }

    /// Whether `key` is present (and marks it read): for keys with a documented default.
    public func has(_ key: String) -> Bool { raw(key) != nil }

    /// The full dotted name of `key` in this section (for error messages).
    public func fullName(_ key: String) -> String { full(key) }

    public func section(_ key: String) throws -> ConfigReader {
        let r = try ConfigReader(try required(key), file: file, prefix: full(key))
        children.append(r)
        return r
    }

    /// Keys present but never read, with their full dotted names.
    public var unknownKeys: [String] {
        map.map(\.0).filter { !used.contains($0) }.map(full) + children.flatMap(\.unknownKeys)
    }

    /// One warning per unknown key, naming the file (read after every key has been taken).
    public var unknownKeyWarnings: [String] {
        unknownKeys.map { "\(file): unknown key '\($0)' (ignored)" }
    }
}
