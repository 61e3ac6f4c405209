extension FeatureMatrix {
    /// Each row divided by its Euclidean norm; all-zero rows stay zero (scikit-learn's `normalize`).
    /// Cosine similarity of normalised rows is their dot product.
    public func l2NormalizedRows() -> FeatureMatrix {
        var out = self
        let d = columns
        guard d > 0 else { return out }
        out.withUnsafeMutableValues { v in
            for r in 0..<rows {
                var sum = 0.0
                for j in 0..<d { let a = Double(v[r * d + j]); sum += a * a }
                guard sum > 0 else { continue }
                let inverse = Float(1 / sum.squareRoot())
                for j in 0..<d { v[r * d + j] *= inverse }
            }
        }
        return out
    }
}
