import GraftKernels

/// One recorded operation: its inputs and how to map the output's gradient
/// to theirs. Nodes hang off their output tensor, so the tape is the graph
/// reachable from the loss and is freed as soon as `backward()` returns.
final class TapeNode {
    let op: String
    let inputs: [Tensor]
    /// Given d(loss)/d(output), returns d(loss)/d(input) for each input
    /// (nil where an input needs no gradient).
    let backward: (Tensor) throws -> [Tensor?]

    init(op: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

extension Tensor {
    /// Attaches a tape node when grad mode is on and any input needs a gradient.
    @discardableResult
    func recorded(_ op: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        if GradMode.isEnabled && inputs.contains(where: { $0.needsGrad }) {
            node = TapeNode(op: op, inputs: inputs, backward: backward)
        }
        return self
    }

    /// Reverse-mode differentiation from this scalar (or from `seed`, a
    /// gradient of the same shape). Leaf gradients accumulate into `.grad`;
    /// the tape below this tensor is released afterwards.
    public func backward(seed: Tensor? = nil) throws {
        guard needsGrad else { throw TensorError.noGradient(reason: "tensor \(shape) does not require grad") }
        let start: Tensor
        if let seed {
            guard seed.shape == shape else { throw TensorError.shapeMismatch(op: "backward(seed:)", lhs: shape, rhs: seed.shape) }
            start = seed
        } else {
            guard count == 1 else { throw TensorError.noGradient(reason: "backward() without a seed needs a scalar, got \(shape)") }
            start = try Tensor.filled(1, shape)
        }
        // Topological order by iterative depth-first search (deep nets would
        // overflow a recursive one).
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.node?.inputs ?? [] where input.needsGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        try withNoGrad {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                if let node = t.node {
                    let inputGrads = try node.backward(g)
                    for (input, ig) in zip(node.inputs, inputGrads) {
                        guard let ig, input.needsGrad else { continue }
                        let key = ObjectIdentifier(input)
                        if let existing = grads[key] { grads[key] = try accumulate(existing, ig) } else { grads[key] = ig }
                    }
                } else if t.requiresGrad {
                    t.grad = try t.grad.map { try accumulate($0, g) } ?? g.materialized()
                    try t.gradientReadyHook?(t)
                }
            }
        }
        for t in order { t.node = nil }
    }

    /// A gradient that owns its storage (gradients may alias inputs).
    func materialized() throws -> Tensor { try copy() }
}

/// Sum of two gradients of the same shape, written into a fresh tensor.
func accumulate(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard a.shape == b.shape else { throw TensorError.shapeMismatch(op: "gradient accumulation", lhs: a.shape, rhs: b.shape) }
    let out = try Tensor(uninitializedShape: a.shape)
    Vector.add(a.pointer, b.pointer, into: out.pointer, count: a.count)
    return out
}
