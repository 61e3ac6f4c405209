import Foundation

/// Pointwise math functions with gradients.
extension Tensor {
    func pointwise(_ op: String, _ f: (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float) throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape)
        Elementwise.unary(pointer, out.pointer, count, f)
        return out.recorded(op, [self]) { [self] g in
            let dx = try Tensor(uninitializedShape: self.shape)
            let x = self.pointer, y = out.pointer, gp = g.pointer, d = dx.pointer
            Elementwise.chunked(self.count) { r in for i in r { d[i] = gp[i] * derivative(x[i], y[i]) } }
            return [dx]
        }
    }

    public func exp() throws -> Tensor { try pointwise("exp", Foundation.exp) { _, y in y } }
    public func log() throws -> Tensor { try pointwise("log", Foundation.log) { x, _ in 1 / x } }
    public func sqrt() throws -> Tensor { try pointwise("sqrt", Foundation.sqrt) { _, y in 0.5 / y } }
    public func squared() throws -> Tensor { try pointwise("square", { $0 * $0 }) { x, _ in 2 * x } }
    public func pow(_ p: Float) throws -> Tensor { try pointwise("pow", { Foundation.pow($0, p) }) { x, _ in p * Foundation.pow(x, p - 1) } }
    public func abs() throws -> Tensor { try pointwise("abs", Swift.abs) { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) } }
    public func clamp(min lo: Float, max hi: Float) throws -> Tensor {
        try pointwise("clamp", { Swift.min(Swift.max($0, lo), hi) }) { x, _ in (x >= lo && x <= hi) ? 1 : 0 }
    }
}
