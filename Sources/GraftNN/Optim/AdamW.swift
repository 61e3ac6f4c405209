import Foundation
import GraftTensor

/// AdamW as `torch.optim.AdamW`: decoupled weight decay p *= 1 - lr*wd,
/// then the bias-corrected Adam step.
public final class AdamW: Optimizer {
    public let groups: [ParameterGroup]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    private var state: [ObjectIdentifier: (m: [Float], v: [Float], t: Int)] = [:]

    public init(_ groups: [ParameterGroup], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.groups = groups
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }

    public func step() throws {
        for group in groups {
            let lr = learningRate * group.learningRateScale, wd = group.weightDecay
            for p in group.parameters {
                guard let g = p.grad else { continue }
                let key = ObjectIdentifier(p)
                // Taken out of the dictionary so the update below mutates it in place (no copy-on-write).
                var s = state.removeValue(forKey: key) ?? ([Float](repeating: 0, count: p.count), [Float](repeating: 0, count: p.count), 0)
                s.t += 1
                let bc1 = 1 - Foundation.pow(beta1, Float(s.t)), bc2 = 1 - Foundation.pow(beta2, Float(s.t))
                let stepSize = lr / bc1, bc2Sqrt = bc2.squareRoot()
                let gp = g.pointer, b1 = beta1, b2 = beta2, eps = epsilon
                p.withMutableValues { w in
                    s.m.withUnsafeMutableBufferPointer { m in
                        s.v.withUnsafeMutableBufferPointer { v in
                            for i in 0..<w.count {
                                w[i] *= 1 - lr * wd
                                m[i] = b1 * m[i] + (1 - b1) * gp[i]
                                v[i] = b2 * v[i] + (1 - b2) * gp[i] * gp[i]
                                w[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Sqrt + eps)
                            }
                        }
                    }
                }
                state[key] = s
            }
        }
    }

    public func exportState() -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (gi, g) in groups.enumerated() { for (pi, p) in g.parameters.enumerated() {
            if let s = state[ObjectIdentifier(p)] {
                out["g\(gi).p\(pi).m"] = s.m; out["g\(gi).p\(pi).v"] = s.v; out["g\(gi).p\(pi).t"] = [Float(s.t)]
            }
        } }
        return out
    }

    public func importState(_ saved: [String: [Float]]) {
        for (gi, g) in groups.enumerated() { for (pi, p) in g.parameters.enumerated() {
            let k = "g\(gi).p\(pi)."
            if let m = saved[k + "m"], let v = saved[k + "v"], let t = saved[k + "t"]?.first, m.count == p.count, v.count == p.count {
                state[ObjectIdentifier(p)] = (m, v, Int(t))
            }
        } }
    }
}
