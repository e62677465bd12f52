import Foundation

/// Element-wise activations and functions, each with its derivative.
extension Tensor {
    /// Applies a kernel into a new tensor of the same shape.
    private func mapped(_ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        kernel(data, out.data, count)
        return out
    }

    /// An activation whose backward kernel takes (x, gy) → gx.
    private func activation(
        _ op: String, _ forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
        backward: @escaping (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> Tensor {
        let out = mapped(forward)
        let x = self
        return Tensor.record(out, op: op, inputs: [x]) { g in
            let gx = Tensor(uninitializedShape: x.shape)
            backward(x.data, g.data, gx.data, x.count)
            return [gx]
        }
    }

    public func relu() -> Tensor {
        activation("relu", { Kernels.relu($0, $1, count: $2) }, backward: { Kernels.reluBackward($0, $1, $2, count: $3) })
    }

    /// Exact (erf) GELU, PyTorch's default.
    public func gelu() -> Tensor {
        activation("gelu", { Kernels.gelu($0, $1, count: $2) }, backward: { Kernels.geluBackward($0, $1, $2, count: $3) })
    }

    public func tanh() -> Tensor {
        let out = mapped { src, dst, n in for i in 0..<n { dst[i] = Foundation.tanh(src[i]) } }
        return Tensor.record(out, op: "tanh", inputs: [self]) { g in
            let gx = Tensor(uninitializedShape: out.shape)
            for i in 0..<out.count { gx.data[i] = g.data[i] * (1 - out.data[i] * out.data[i]) }
            return [gx]
        }
    }

    public func exp() -> Tensor {
        let out = mapped { Kernels.exp($0, $1, count: $2) }
        return Tensor.record(out, op: "exp", inputs: [self]) { g in [try g * out] }
    }

    /// Natural log (−inf at 0, NaN below, as libm).
    public func log() -> Tensor {
        let out = mapped { src, dst, n in for i in 0..<n { dst[i] = Foundation.log(src[i]) } }
        let x = self
        return Tensor.record(out, op: "log", inputs: [x]) { g in [try g / x] }
    }
}
