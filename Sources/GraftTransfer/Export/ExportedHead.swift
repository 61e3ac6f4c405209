import GraftHeads

extension TrainedModel {
    /// A feature bundle's head as the affine map exports write: raw weights `[rows, features]` (the
    /// standardisation folded in), rows in class-index order as `probabilities` spreads them, and whether
    /// the features are L2-normalised first (prototypes). nil for a network bundle, a k-NN head, or a head
    /// that never saw some of the bundle's classes.
    public var exportedHead: (weights: [Float], bias: [Float], rows: Int, normalizesRows: Bool)? {
        switch scorer {
        case let .head(_, head as LinearHead):
            let k = classNames.count, d = head.featureCount
            guard Set(head.classes) == Set(0..<k), head.classes.count == k else { return nil }
            let (w, b) = head.rawAffine()
            var weights = [Float](repeating: 0, count: k * d), bias = [Float](repeating: 0, count: k)
            for (column, label) in head.classes.enumerated() {
                weights.replaceSubrange((label * d)..<((label + 1) * d), with: w[(column * d)..<((column + 1) * d)])
                bias[label] = b[column]
            }
            return (weights, bias, k, head.kind == .prototype)
        case let .regression(_, head): let (w, b) = head.rawAffine(); return (w, b, head.targetCount, false)
        case let .multiLabel(_, head): let (w, b) = head.rawAffine(); return (w, b, head.labelCount, false)
        default: return nil
        }
    }
}
