/// Inverted dropout: zeroes each element with probability p and scales the
/// rest by 1/(1-p), from a seeded generator so runs repeat exactly.
extension Tensor {
    public func dropout(probability p: Float, generator: inout SeededGenerator) throws -> Tensor {
        guard p >= 0 && p < 1 else { throw TensorError.invalidArgument(op: "dropout", reason: "probability \(p) outside [0, 1)") }
        if p == 0 { return self }
        let mask = try Tensor(uninitializedShape: shape)
        let keep = 1 / (1 - p)
        for i in 0..<count { mask.pointer[i] = generator.nextUniform() < p ? 0 : keep }
        return try self * mask
    }
}
