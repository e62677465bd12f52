/// The middle value of a set of measurements, the mean of the two middle ones for an even count
/// (NaN for none): every bench command reports its medians this way, so figures compare.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
