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
}
