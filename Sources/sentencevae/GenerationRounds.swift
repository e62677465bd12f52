import Foundation

/// `bench generate --rounds N`: every model runs once per round, in the same order, so that a
/// ratio is taken between runs minutes apart at most, on a VM whose speed drifts (up to 4× within
/// minutes), and each figure is a median over the rounds instead of one stretch of that drift.
enum GenerationRounds {
    /// One row per model and format: the first round's row with every number replaced by its
    /// median over the rounds; with several rounds, each round's output tokens/s is kept too
    /// (`output_tokens_per_s_rounds`).
    static func medians(_ rounds: [[[String: Any]]]) -> [[String: Any]] {
        guard let first = rounds.first else { return [] }
        return first.indices.map { i in
            var row = first[i]
            for (key, value) in first[i] where value is Double {
                row[key] = median(rounds.compactMap { $0.indices.contains(i) ? $0[i][key] as? Double : nil })
            }
            if rounds.count > 1 {
                row["output_tokens_per_s_rounds"] = rounds.map { $0.indices.contains(i) ? $0[i]["output_tokens_per_s"] as? Double ?? .nan : .nan }
            }
            return row
        }
    }

    /// Output tokens/s ratios taken inside each round: every SLLM against the OPT at the same
    /// weights, and each of our models against PyTorch's same model (`torch`, round by round).
    /// Each entry: {"model", "weights", "against": "opt" | "pytorch", "rounds": [...], "median"}.
    static func ratios(_ rounds: [[[String: Any]]], torch: [[[String: Any]]] = []) -> [[String: Any]] {
        // Each pair in the order first met, with its ratio from every round.
        var order: [(model: String, weights: String, against: String)] = [], values: [String: [Double]] = [:]
        func add(_ model: String, _ weights: String, against: String, _ value: Double) {
            let key = "\(model) \(weights) \(against)"
            if values[key] == nil { order.append((model, weights, against)) }
            values[key, default: []].append(value)
        }
        for (r, rows) in rounds.enumerated() {
            for row in rows {
                guard let model = row["model"] as? String, let weights = row["weights"] as? String,
                      let speed = row["output_tokens_per_s"] as? Double else { continue }
                if model != "opt", let opt = rows.first(where: { $0["model"] as? String == "opt" && $0["weights"] as? String == weights }),
                   let base = opt["output_tokens_per_s"] as? Double, base > 0 {
                    add(model, weights, against: "opt", speed / base)
                }
                if weights == "f32", torch.indices.contains(r),
                   let reference = torch[r].first(where: { $0["model"] as? String == model }),
                   let base = reference["output_tokens_per_s"] as? Double, base > 0 {
                    add(model, weights, against: "pytorch", speed / base)
                }
            }
        }
        return order.map { pair in
            let rounds = values["\(pair.model) \(pair.weights) \(pair.against)"] ?? []
            return ["model": pair.model, "weights": pair.weights, "against": pair.against, "rounds": rounds, "median": median(rounds)]
        }
    }

    /// "SLLM-H1 / OPT, f32: 2.61, 2.70, 2.55 (median 2.61)": one line per ratio.
    static func lines(_ ratios: [[String: Any]]) -> [String] {
        ratios.map { entry in
            let model = (entry["model"] as? String ?? "").uppercased(), weights = entry["weights"] as? String ?? ""
            let against = entry["against"] as? String == "pytorch" ? "PyTorch's" : "OPT"
            let values = (entry["rounds"] as? [Double] ?? []).map { String(format: "%.2f", $0) }.joined(separator: ", ")
            let who = entry["against"] as? String == "pytorch" ? "ours / \(against) \(model)" : "\(model) / \(against)"
            return "\(who), \(weights): \(values)" + (values.contains(",") ? String(format: " (median %.2f)", entry["median"] as? Double ?? .nan) : "")
        }
    }
}
