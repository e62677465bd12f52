import ModelIO

/// `--set key=value` on the command line: `value` is read as YAML (so `16`, `1.0e-4`, `true`,
/// `null` and strings all work) and replaces `key` in the resolved config; dotted keys reach into
/// sections (`--set llm.finetune_layers=2`).
enum ConfigOverrides {
    static func apply(_ overrides: [String], to config: ConfigValue) throws -> ConfigValue {
        var result = config
        for item in overrides {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw CLIError("--set \(item): expected key=value, e.g. --set max_iters=2000")
            }
            let key = String(item[..<eq]), raw = String(item[item.index(after: eq)...])
            let parsed: ConfigValue
            do { parsed = try YAMLConfig.parse("v: \(raw)\n", path: "--set \(item)") } catch { throw CLIError("--set \(item): \(error)") }
            guard let value = parsed["v"] else { throw CLIError("--set \(item): no value") }
            var update = value
            for part in key.split(separator: ".").reversed() { update = .map([(String(part), update)]) }
            result = ConfigValue.merged(result, update)
        }
        return result
    }
}
