import GraftTensor

/// SGD with momentum, as `torch.optim.SGD` (dampening 0): L2 weight decay is
/// added to the gradient; buf = momentum*buf + grad; p -= lr*buf (or Nesterov).
public final class SGD: Optimizer {
    public let groups: [ParameterGroup]
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    private var buffers: [ObjectIdentifier: [Float]] = [:]

    public init(_ groups: [ParameterGroup], learningRate: Float, momentum: Float = 0.9, nesterov: Bool = false) {
        self.groups = groups
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public func step() throws {
        for group in groups {
            let lr = learningRate * group.learningRateScale, wd = group.weightDecay
            for p in group.parameters {
                guard let g = p.grad else { continue }
                let key = ObjectIdentifier(p)
                // Taken out of the dictionary so the update below mutates it in place (no copy-on-write).
                var buf = buffers.removeValue(forKey: key) ?? []
                let first = buf.isEmpty
                if first { buf = [Float](repeating: 0, count: p.count) }
                let gp = g.pointer
                p.withMutableValues { w in
                    buf.withUnsafeMutableBufferPointer { b in
                        for i in 0..<w.count {
                            var d = gp[i] + wd * w[i]
                            if momentum != 0 {
                                b[i] = first ? d : momentum * b[i] + d
                                d = nesterov ? d + momentum * b[i] : b[i]
                            }
                            w[i] -= lr * d
                        }
                    }
                }
                buffers[key] = buf
            }
        }
    }

    public func exportState() -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (gi, g) in groups.enumerated() { for (pi, p) in g.parameters.enumerated() {
            if let b = buffers[ObjectIdentifier(p)] { out["g\(gi).p\(pi).momentum"] = b }
        } }
        return out
    }

    public func importState(_ state: [String: [Float]]) {
        for (gi, g) in groups.enumerated() { for (pi, p) in g.parameters.enumerated() {
            if let b = state["g\(gi).p\(pi).momentum"], b.count == p.count { buffers[ObjectIdentifier(p)] = b }
        } }
    }
}
