import ArgumentParser

/// The items of a comma-separated option (`--models opt,sllm-h1`), trimmed. An empty item or one
/// given twice is refused: each item is one row of the results, and two rows with the same name
/// would be one measurement reported twice.
func commaList(_ text: String, option: String) throws -> [String] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    var seen = Set<String>()
    for item in items {
        guard !item.isEmpty else { throw ValidationError("\(option) has an empty item in '\(text)'; separate names by single commas") }
        guard seen.insert(item).inserted else { throw ValidationError("\(option) names '\(item)' twice; give each once") }
    }
    return items
}
