import Foundation

/// Ridge regression on features, closed form: features standardised (`StandardScaler`), each target
/// centred, `w = (Z^T Z + alpha I)^-1 Z^T (y - mean y)` (or its dual `Z^T (Z Z^T + alpha I)^-1 (y - mean y)`
/// when there are fewer rows than features), intercept the target mean. This is scikit-learn's
/// `make_pipeline(StandardScaler(), Ridge(alpha))`. Without an `alpha`, K-fold cross-validation picks
/// the grid value with the least mean squared error (averaged over folds and targets; standardisation
/// refitted in each fold; ties to the first), as `GridSearchCV(..., scoring="neg_mean_squared_error")`.
public struct RidgeRegression: Sendable {
    public struct Options: Sendable {
        /// The penalty; nil chooses it by cross-validation from `alphaGrid`.
        public var alpha: Double?
        public var alphaGrid: [Double] = [0.01, 0.1, 1, 10, 100, 1000, 10000]
        public var folds = 5
        /// Shuffle rows (seeded) before cutting folds; false cuts contiguous folds in row order (`KFold()`).
        public var shuffleFolds = true
        public var seed: UInt64 = 0
        public init(alpha: Double? = nil) { self.alpha = alpha }
    }

    /// What cross-validation measured: the mean validation MSE of each alpha.
    public struct Search: Codable, Sendable, Equatable {
        public var folds: Int
        public var grid: [Double]
        public var meanSquaredError: [Double]
        public var chosenAlpha: Double
    }

    public struct Fit: Sendable {
        public var head: RegressionHead
        public var search: Search?
        public var seconds: Double
    }

    public var options: Options
    public init(_ options: Options = Options()) { self.options = options }

    /// Fits `targets` (`[rows, targets]`) on `x`.
    public func fit(_ x: FeatureMatrix, targets y: FeatureMatrix) throws(HeadsError) -> Fit {
        let start = Date()
        guard x.rows > 0, x.columns > 0 else { throw .emptyData(what: "training features [\(x.rows), \(x.columns)]") }
        guard y.rows == x.rows else { throw .labelCountMismatch(rows: x.rows, labels: y.rows) }
        guard y.columns > 0 else { throw .emptyData(what: "regression targets") }
        if let bad = x.firstNonFinite() { throw .nonFiniteFeature(what: "training features", row: bad.row, column: bad.column) }
        if let bad = y.firstNonFinite() { throw .nonFiniteFeature(what: "regression targets", row: bad.row, column: bad.column) }
        var search: Search?
        let alpha: Double
        if let given = options.alpha {
            guard given > 0, given.isFinite else { throw .invalidOption(name: "alpha", reason: "must be finite and > 0, got \(given)") }
            alpha = given
        } else {
            search = try crossValidate(x, y)
            alpha = search!.chosenAlpha
        }
        let head = try Self.solve(x, y, rows: Array(0..<x.rows), alphas: [alpha])[0]
        return Fit(head: head, search: search, seconds: Date().timeIntervalSince(start))
    }

    func crossValidate(_ x: FeatureMatrix, _ y: FeatureMatrix) throws(HeadsError) -> Search {
        guard !options.alphaGrid.isEmpty, options.alphaGrid.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw .invalidOption(name: "alphaGrid", reason: "needs values that are finite and > 0, got \(options.alphaGrid)")
        }
        let grid = options.alphaGrid
        let k = options.folds
        guard k >= 2, x.rows >= k else {
            throw .invalidOption(name: "folds", reason: "\(k)-fold cross-validation needs at least 2 folds and \(k) rows, got \(x.rows) rows")
        }
        var order = Array(0..<x.rows)
        if options.shuffleFolds {
            var g = SeededGenerator(seed: options.seed)
            order.shuffle(using: &g)
        }
        // KFold's sizes: the first rows % k folds hold one row more.
        var errors = [Double](repeating: 0, count: grid.count)
        var at = 0
        for f in 0..<k {
            let size = x.rows / k + (f < x.rows % k ? 1 : 0)
            let validation = Array(order[at..<(at + size)])
            let held = Set(validation)
            let train = (0..<x.rows).filter { !held.contains($0) }
            at += size
            let vx = try x.selectingRows(validation), vy = try y.selectingRows(validation)
            for (g, head) in try Self.solve(x, y, rows: train, alphas: grid).enumerated() {
                let predicted = try head.predict(vx)
                var sum = 0.0
                for i in 0..<vy.values.count { let e = Double(vy.values[i]) - Double(predicted.values[i]); sum += e * e }
                errors[g] += sum / Double(vy.values.count) / Double(k)
            }
        }
        var best = 0
        for g in 1..<grid.count where errors[g] < errors[best] { best = g }
        return Search(folds: k, grid: grid, meanSquaredError: errors, chosenAlpha: grid[best])
    }

    /// Heads for each alpha from the rows `rows`: one standardisation and one Gram matrix, one Cholesky solve per alpha.
    static func solve(_ x: FeatureMatrix, _ y: FeatureMatrix, rows: [Int], alphas: [Double]) throws(HeadsError) -> [RegressionHead] {
        let standardization = try Standardization.fit(x, rows: rows)
        let z = try standardization.apply(x.selectingRows(rows))
        let n = rows.count, d = x.columns, t = y.columns
        var means = [Double](repeating: 0, count: t)
        for r in rows { for c in 0..<t { means[c] += Double(y[r, c]) } }
        for c in 0..<t { means[c] /= Double(n) }
        var centred = [Double](repeating: 0, count: n * t)
        for (i, r) in rows.enumerated() { for c in 0..<t { centred[i * t + c] = Double(y[r, c]) - means[c] } }
        // Primal (d x d) or dual (n x n) system, whichever is smaller.
        let primal = d <= n
        let m = primal ? d : n
        let gram = try Self.gram(z, transposed: primal)
        var rightHand = centred
        if primal {
            rightHand = [Double](repeating: 0, count: d * t)
            for i in 0..<n { for j in 0..<d { let v = Double(z[i, j]); if v == 0 { continue }; for c in 0..<t { rightHand[j * t + c] += v * centred[i * t + c] } } }
        }
        return try alphas.map { (alpha) throws(HeadsError) -> RegressionHead in
            var a = gram
            for i in 0..<m { a[i * m + i] += alpha }
            let solution = try CholeskySolver.solve(a, n: m, rightHand, columns: t)
            var w = [Float](repeating: 0, count: t * d)
            if primal {
                for j in 0..<d { for c in 0..<t { w[c * d + j] = Float(solution[j * t + c]) } }
            } else {
                var wide = [Double](repeating: 0, count: t * d)
                for i in 0..<n { for j in 0..<d { let v = Double(z[i, j]); if v == 0 { continue }; for c in 0..<t { wide[c * d + j] += v * solution[i * t + c] } } }
                w = wide.map { Float($0) }
            }
            return try RegressionHead(featureCount: d, targetCount: t, weights: w, bias: means.map { Float($0) },
                                      standardization: standardization, alpha: alpha)
        }
    }

    /// `Z^T Z` (`transposed`) or `Z Z^T`, in Double.
    static func gram(_ z: FeatureMatrix, transposed: Bool) throws(HeadsError) -> [Double] {
        let n = z.rows, d = z.columns, m = transposed ? d : n
        var g = [Double](repeating: 0, count: m * m)
        z.values.withUnsafeBufferPointer { v in
            if transposed {
                for i in 0..<n {
                    let row = v.baseAddress! + i * d
                    for a in 0..<d {
                        let va = Double(row[a]); if va == 0 { continue }
                        for b in a..<d { g[a * m + b] += va * Double(row[b]) }
                    }
                }
            } else {
                for a in 0..<n {
                    for b in a..<n {
                        var s = 0.0
                        for j in 0..<d { s += Double(v[a * d + j]) * Double(v[b * d + j]) }
                        g[a * m + b] = s
                    }
                }
            }
        }
        for a in 0..<m { for b in 0..<a { g[a * m + b] = g[b * m + a] } }
        return g
    }
}
