/// Regression metrics per target and averaged over targets with equal weight, as scikit-learn's
/// `mean_absolute_error`, `root_mean_squared_error` and `r2_score` (multioutput "uniform_average").
public struct RegressionReport: Codable, Sendable, Equatable {
    public struct Target: Codable, Sendable, Equatable {
        public var meanAbsoluteError: Double
        public var rootMeanSquaredError: Double
        /// 1 - residual sum of squares / total sum of squares; for a constant truth, 1 when predicted
        /// exactly and 0 otherwise (scikit-learn's `force_finite`).
        public var r2: Double
    }

    public var rows: Int
    public var perTarget: [Target]
    public var meanAbsoluteError: Double
    public var rootMeanSquaredError: Double
    public var r2: Double

    public init(truth: FeatureMatrix, predicted: FeatureMatrix) throws(HeadsError) {
        guard truth.rows == predicted.rows, truth.columns == predicted.columns else {
            throw .shapeMismatch(what: "predicted targets", expected: [truth.rows, truth.columns], got: [predicted.rows, predicted.columns])
        }
        guard truth.rows > 0, truth.columns > 0 else { throw .emptyData(what: "regression targets") }
        let n = Double(truth.rows)
        perTarget = (0..<truth.columns).map { t in
            var mean = 0.0
            for r in 0..<truth.rows { mean += Double(truth[r, t]) }
            mean /= n
            var absolute = 0.0, squared = 0.0, total = 0.0
            for r in 0..<truth.rows {
                let y = Double(truth[r, t]), e = y - Double(predicted[r, t])
                absolute += abs(e); squared += e * e; total += (y - mean) * (y - mean)
            }
            let r2 = total > 0 ? 1 - squared / total : (squared == 0 ? 1 : 0)
            return Target(meanAbsoluteError: absolute / n, rootMeanSquaredError: (squared / n).squareRoot(), r2: r2)
        }
        rows = truth.rows
        let k = Double(truth.columns)
        meanAbsoluteError = perTarget.map(\.meanAbsoluteError).reduce(0, +) / k
        rootMeanSquaredError = perTarget.map(\.rootMeanSquaredError).reduce(0, +) / k
        r2 = perTarget.map(\.r2).reduce(0, +) / k
    }
}
