/// The vector type of our hand-written kernels: 16 floats (one AVX-512 register, two AVX, four SSE
/// or NEON), so the same code is wide on every CPU the compiler targets.
public typealias FloatVector = SIMD16<Float>

@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> FloatVector {
    UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self)
}

@inline(__always)
func storeVector(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self)
}

/// Vectorised `exp` (within ~2 ulp of libm): `exp(x) = 2^n · exp(r)`, n = round(x / ln 2),
/// |r| ≤ ln2/2 by a Cody–Waite split, exp(r) by a degree-7 polynomial, 2^n built in the exponent
/// bits as two halves (so n = 128 near the top does not overflow the exponent field). Inputs below
/// −87.34 give 0 (no denormals; so exp(−inf) = 0 for masked logits), above 88.72 give +inf.
/// Selects are float compares + `replacing(with:where:)`, which compile to blends; integer-mask
/// selects and `pointwiseMin/Max` are scalarised and made this 4–10× slower.
@inline(__always)
func vectorExp(_ x: FloatVector) -> FloatVector {
    let low: Float = -87.336_54, high: Float = 88.722_83
    var v = x.replacing(with: low, where: x .< low)
    v = v.replacing(with: high, where: v .> high)
    // round(v / ln2) by the 1.5·2^23 trick: the integer lands in the low mantissa bits of t.
    let magic: Float = 12_582_912
    let t = v * 1.442_695_04 + magic
    let n = t - magic
    var r = v - n * 0.693_145_75
    r = r - n * 1.428_606_8e-6
    var p = FloatVector(repeating: 1.0 / 5040)
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let k = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let half = k &>> 1
    let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: FloatVector.self)
    let scale2 = unsafeBitCast((k &- half &+ 127) &<< 23, to: FloatVector.self)
    var result = p * scale1 * scale2
    result = result.replacing(with: 0, where: x .< low)
    result = result.replacing(with: .infinity, where: x .> high)
    return result
}

/// `exp(x)` for x ≤ 0 — softmax's `x − max` — at about twice `vectorExp`'s speed: the one-sided
/// range needs one clamp and a single 2^n scale (n ≥ −126 is a normal float), the degree-7
/// polynomial is evaluated by Estrin's scheme (depth 3 instead of Horner's 7 dependent steps, so
/// more vectors are in flight), and every step is an explicit fused multiply-add (Swift does not
/// contract `a * b + c`). Within 1.7e-7 relative of libm over (−87, 0]; −87.34 and below (−inf
/// included) give exactly 0. Positive inputs are outside its contract.
@inline(__always)
func vectorExpNonPositive(_ x: FloatVector) -> FloatVector {
    let low: Float = -87.336_54
    let v = x.replacing(with: low, where: x .< low)
    let magic = FloatVector(repeating: 12_582_912)
    let t = magic.addingProduct(v, 1.442_695_04)
    let n = t - magic
    var r = v.addingProduct(n, -0.693_145_75)
    r = r.addingProduct(n, -1.428_606_8e-6)
    let r2 = r * r, r4 = r2 * r2
    let p01 = FloatVector(repeating: 1) + r
    let p23 = FloatVector(repeating: 0.5).addingProduct(r, 1.0 / 6)
    let p45 = FloatVector(repeating: 1.0 / 24).addingProduct(r, 1.0 / 120)
    let p67 = FloatVector(repeating: 1.0 / 720).addingProduct(r, 1.0 / 5040)
    let p = p01.addingProduct(r2, p23).addingProduct(r4, p45.addingProduct(r2, p67))
    // t's low mantissa bits hold n; (n + 127) << 23 is 2^n.
    let scale = unsafeBitCast((unsafeBitCast(t, to: SIMD16<Int32>.self) &+ (127 - 0x4B40_0000)) &<< 23, to: FloatVector.self)
    return (p * scale).replacing(with: 0, where: x .< low)
}
