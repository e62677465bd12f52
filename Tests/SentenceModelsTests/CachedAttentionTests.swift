import TestSupport
import XCTest
import TensorCore
@testable import SentenceModels

/// The blocked attention of a prompt (`CachedAttention`, from `blockedRows` queries: Q·Kᵀ and P·V as
/// matrix products, a block of queries at a time) against the same queries one at a time.
final class CachedAttentionTests: XCTestCase {
    func testBlockedPromptMatchesOneQueryAtATime() {
        let saved = Threads.count
        defer { Threads.count = saved }
        var generator = RandomGenerator(seed: 41)
        // Head widths with and without a vector tail; prompts that end in a partial block, a single
        // full block, the first size blocked; with and without positions already cached.
        for (heads, width) in [(4, 48), (3, 96)] {
            for (past, n) in [(0, 16), (7, 45), (0, 64), (30, 33)] {
                for threads in [1, 2] {
                    Threads.count = threads
                    let attention = CachedAttention(heads: heads, width: width)
                    let cache = KVCache(capacity: past + n + 5, width: width)
                    let keys = Tensor.randn([(past + n) * width], generator: &generator).values
                    let values = Tensor.randn([(past + n) * width], generator: &generator).values
                    cache.keys.update(from: keys, count: keys.count)
                    cache.values.update(from: values, count: values.count)
                    cache.length = past + n
                    let q = Tensor.randn([n * width], generator: &generator).values
                    let scale = 1 / Float(width / heads).squareRoot()
                    var blocked = [Float](repeating: .nan, count: n * width), single = blocked
                    XCTAssertGreaterThanOrEqual(n, CachedAttention.blockedRows)
                    attention(q: q, rows: n, cache: cache, past: past, scale: scale, out: &blocked)
                    // The keys/values entry takes queries one at a time.
                    attention(q: q, rows: n, keys: cache.keys, values: cache.values, past: past, causal: true, scale: scale, out: &single)
                    assertClose(blocked, single, rel: 1e-5, abs: 1e-5,
                                "heads=\(heads) width=\(width) past=\(past) n=\(n) threads=\(threads)")
                }
            }
        }
    }

    /// One query (a decoding step) over the cache, its positions split into parts for the threads
    /// (`CachedAttention.splitFloats`, `partsPerThread`) and the parts' softmaxes merged, against a
    /// Double reference: caches too small to split, split into 8 to 12 parts on 2 and 3 threads,
    /// heads with and without a vector tail.
    func testOneQueryMatchesReference() {
        let saved = Threads.count
        defer { Threads.count = saved }
        var generator = RandomGenerator(seed: 43)
        for (heads, width, total) in [(4, 48, 1), (4, 48, 17), (4, 48, 400), (3, 96, 171), (3, 96, 200), (2, 40, 450)] {
            XCTAssert(total == 1 || total * width < CachedAttention.splitFloats || total / 16 >= 3, "a case that splits in three")
            for threads in [1, 2, 3] {
                Threads.count = threads
                let attention = CachedAttention(heads: heads, width: width)
                let cache = KVCache(capacity: total + 3, width: width)
                // Scaled up so the softmaxes are far from uniform and the parts' maxima differ.
                let keys = Tensor.randn([total * width], generator: &generator).values.map { $0 * 3 }
                let values = Tensor.randn([total * width], generator: &generator).values
                cache.keys.update(from: keys, count: keys.count)
                cache.values.update(from: values, count: values.count)
                cache.length = total
                let q = Tensor.randn([width], generator: &generator).values
                let dim = width / heads, scale = 1 / Float(dim).squareRoot()
                var out = [Float](repeating: .nan, count: width)
                attention(q: q, rows: 1, cache: cache, past: total - 1, scale: scale, out: &out)
                var expected = [Float](repeating: 0, count: width)
                for h in 0..<heads {
                    let s = (0..<total).map { j in
                        Double(scale) * (0..<dim).reduce(0.0) { $0 + Double(q[h * dim + $1]) * Double(keys[j * width + h * dim + $1]) }
                    }
                    let top = s.max()!, e = s.map { Foundation.exp($0 - top) }, sum = e.reduce(0, +)
                    for c in 0..<dim {
                        expected[h * dim + c] = Float((0..<total).reduce(0.0) { $0 + e[$1] / sum * Double(values[$1 * width + h * dim + c]) })
                    }
                }
                assertClose(out, expected, rel: 1e-5, abs: 1e-5, "heads=\(heads) width=\(width) total=\(total) threads=\(threads)")
            }
        }
    }
}
