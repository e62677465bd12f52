import TensorCore

extension RandomGenerator {
    /// Fisher–Yates written out (last position first, `j = nextInt(below: i + 1)`), so a seed gives
    /// the same order on every platform and Swift version; the standard library's `shuffle(using:)`
    /// promises no particular algorithm.
    mutating func shuffle<Element>(_ elements: inout [Element]) {
        var i = elements.count - 1
        while i > 0 {
            let j = nextInt(below: i + 1)
            if i != j { elements.swapAt(i, j) }
            i -= 1
        }
    }
}
