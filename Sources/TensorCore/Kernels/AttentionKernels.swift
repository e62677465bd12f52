import CPUKernels

/// The two products of one attention head for one query over a cache (rows `stride` floats apart):
/// the scores against every key and the probability-weighted sum of the values. With AVX2+FMA
/// (`NativeKernels`) they run the C kernels of `CPUKernels/Attention.c`, four keys per step with
/// no call per key; the Swift loops below took 9 % of an OPT-125m q8 decoding step at 200 cached
/// tokens (AMD EPYC).
extension Kernels {
    /// `scores[j] = scale · (q · keys[j])` for `j < count`; `q` and every key are `dim` floats.
    public static func attentionScores(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, stride: Int, count: Int, dim: Int,
                                       scale: Float, into scores: UnsafeMutablePointer<Float>) {
        if NativeKernels.enabled {
            cpu_kernels_attention_scores(q, keys, stride, count, dim, scale, scores)
            return
        }
        for j in 0..<count { scores[j] = dot(q, keys + j * stride, count: dim) * scale }
    }

    /// `out = Σ_{j<count} p[j] · values[j]` (`dim` floats).
    public static func attentionMix(_ p: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int, count: Int, dim: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        if NativeKernels.enabled {
            cpu_kernels_attention_mix(p, values, stride, count, dim, out)
            return
        }
        out.update(repeating: 0, count: dim)
        for j in 0..<count {
            let w = p[j], v = values + j * stride
            for d in 0..<dim { out[d] += w * v[d] }
        }
    }

    /// `scores[h·ld + j] = scale · (q_h · keys[j]_h)` for every head `h < heads` and `j < count`: one
    /// query against cache rows of `heads × dim` floats, the rows read in order (see
    /// `cpu_kernels_attention_scores_rows`).
    public static func attentionScoresRows(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, stride: Int, heads: Int, dim: Int,
                                           count: Int, scale: Float, into scores: UnsafeMutablePointer<Float>, ld: Int) {
        if NativeKernels.enabled {
            cpu_kernels_attention_scores_rows(q, keys, stride, heads, dim, count, scale, scores, ld)
            return
        }
        for j in 0..<count {
            for h in 0..<heads { scores[h * ld + j] = dot(q + h * dim, keys + j * stride + h * dim, count: dim) * scale }
        }
    }

    /// `out[h·dim + c] = Σ_{j<count} p[h·ld + j] · values[j][h·dim + c]`, the rows read in order.
    public static func attentionMixRows(_ p: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int, heads: Int, dim: Int,
                                        count: Int, ld: Int, into out: UnsafeMutablePointer<Float>) {
        if NativeKernels.enabled {
            cpu_kernels_attention_mix_rows(p, values, stride, heads, dim, count, ld, out)
            return
        }
        out.update(repeating: 0, count: heads * dim)
        for j in 0..<count {
            for h in 0..<heads {
                let w = p[h * ld + j], v = values + j * stride + h * dim, o = out + h * dim
                for c in 0..<dim { o[c] += w * v[c] }
            }
        }
    }
}
