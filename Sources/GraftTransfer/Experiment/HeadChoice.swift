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

    public func fit(_ x: FeatureMatrix, labels: [Int], seed: UInt64 = 0) throws -> HeadFit {
        switch self {
        case let .logisticRegression(C):
            var o = LogisticRegression.Options(C: C); o.seed = seed
            return try LogisticRegression(o).fit(x, labels: labels)
        case let .linearSVM(C):
            var o = LinearSVM.Options(C: C); o.seed = seed
            return try LinearSVM(o).fit(x, labels: labels)
        }
    }
}
