/// Reverse-mode differentiation. `backward()` orders the recorded graph into a tape (reverse
/// topological order), runs each node's backward once with its summed output gradient, adds the
/// results into the leaves' `grad`, and then frees the graph.
extension Tensor {
    public func backward(gradient: Tensor? = nil) throws {
        guard requiresGrad else {
            throw TensorError.noGradient(reason: "this tensor does not require a gradient (no input had requiresGrad, or it was made under withNoGrad)")
        }
        let seed: Tensor
        if let gradient {
            guard gradient.shape == shape else {
                throw TensorError.shapeMismatch(op: "backward(gradient:)", lhs: shape, rhs: gradient.shape)
            }
            seed = gradient
        } else {
            guard count == 1 else { throw TensorError.notScalar(shape: shape) }
            seed = Tensor.full(shape, 1)
        }

        let tape = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        try withNoGrad {
            for node in tape.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(node)) else { continue }
                guard let fn = node.gradFn else {
                    // A leaf: accumulate.
                    if let existing = node.grad {
                        Kernels.add(existing.data, g.data, existing.data, count: existing.count)
                    } else {
                        // Always a copy: `g` may be shared (add's backward hands one tensor to both inputs).
                        node.grad = g.copy()
                    }
                    continue
                }
                let inputGrads = try fn.backward(g)
                for (input, ig) in zip(fn.inputs, inputGrads) {
                    guard input.requiresGrad, let ig else { continue }
                    guard ig.shape == input.shape else {
                        throw TensorError.shapeMismatch(op: "backward of \(fn.op)", lhs: input.shape, rhs: ig.shape)
                    }
                    let key = ObjectIdentifier(input)
                    if let acc = grads[key] {
                        let sum = Tensor(uninitializedShape: acc.shape)
                        Kernels.add(acc.data, ig.data, sum.data, count: sum.count)
                        grads[key] = sum
                    } else {
                        grads[key] = ig
                    }
                }
            }
        }
        // Free the graph: intermediate results drop their closures (and the buffers they hold).
        for node in tape where node.gradFn != nil {
            node.gradFn = nil
        }
    }

    /// Every tensor reachable from `self` through recorded ops, inputs before the tensors made from
    /// them. Iterative, so deep graphs (long training unrolls) cannot overflow the stack.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded {
                order.append(node)
                continue
            }
            let id = ObjectIdentifier(node)
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((node, true))
            for input in node.gradFn?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
