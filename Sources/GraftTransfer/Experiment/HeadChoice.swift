import GraftHeads

/// The linear model fitted on features; C chosen by cross-validation when nil.
public enum HeadChoice: Sendable, Equatable {
    case logisticRegression(C: Double? = nil)
    case linearSVM(C: Double? = nil)

    public var name: String {
        switch self {
        case .logisticRegression: "logreg"
        case .linearSVM: "svm"
        }
    }

    /// Fits the head. Cross-validation uses 5 folds, fewer when the smallest
    /// class has fewer than 5 examples, and C = 1 (scikit-learn's default) when
    /// it has only one, so few-shot data never fails for want of folds. Under `mpirun` the folds
    /// are spread over the ranks (`RankFolds`); every rank gets the same head.
    public func fit(_ x: FeatureMatrix, labels: [Int], seed: UInt64 = 0, classWeighting: ClassWeighting = .uniform) throws -> HeadFit {
        var counts: [Int: Int] = [:]
        for l in labels { counts[l, default: 0] += 1 }
        let folds = min(5, counts.values.min() ?? 0)
        let fallback: Double? = folds >= 2 ? nil : 1
        switch self {
        case let .logisticRegression(C):
            var o = LogisticRegression.Options(C: C ?? fallback, classWeighting: classWeighting)
            o.seed = seed; o.folds = max(2, folds); o.foldDistribution = RankFolds.ifLaunched()
            return try LogisticRegression(o).fit(x, labels: labels)
        case let .linearSVM(C):
            var o = LinearSVM.Options(C: C ?? fallback, classWeighting: classWeighting)
            o.seed = seed; o.folds = max(2, folds); o.foldDistribution = RankFolds.ifLaunched()
            return try LinearSVM(o).fit(x, labels: labels)
        }
    }
}
