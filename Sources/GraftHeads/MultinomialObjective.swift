import Foundation

/// The L2-regularised multinomial log-loss over in-memory features, scaled as scikit-learn's
/// `LogisticRegression` (lbfgs) scales it:
///
///     f(W, b) = (1/S) sum_i s_i [logsumexp(z_i) - z_i[y_i]] + 1/(2 C S) ||W||^2,   z_i = W x~_i + b
///
/// with row weights `s_i` (class weights; 0 leaves a row out, which is how cross-validation folds
/// are fitted without copying), `S = sum_i s_i`, and the intercept unpenalised.
/// When standardising, `x~ = (x - mean) / scale` is folded into the products instead of building a
/// standardised copy: `W x~ + b = (W / scale) x + (b - (W / scale) . mean)`.
///
/// Parameters are `[W (classes x features, row-major), b (classes)]`. Line-search trials reuse the
/// cached logits `Z` and direction products `Q = X P^T`, so one L-BFGS iteration reads the feature
/// matrix exactly twice (one product for the direction, one for the gradient).
final class MultinomialObjective: LineSearchObjective {
    let n: Int, d: Int, k: Int
    private let x: UnsafePointer<Float>
    private let labels: [Int32]
    private let rowWeights: [Float]
    private let weightSum: Double
    private let lambda: Double
    private let fitIntercept: Bool
    private let mean: [Float]?
    private let inverseScale: [Float]?

    /// Current parameters `[W, b]`.
    private(set) var parameters: [Float]
    /// Logits of every row (rows with weight 0 included) at the current parameters.
    private(set) var logits: [Float]
    private var direction: [Float]
    private var directionLogits: [Float]
    private var rowGradient: [Float]
    private var folded: [Float]
    private var rowScratch: [Float]
    private var ww = 0.0, wp = 0.0, pp = 0.0

    var parameterCount: Int { k * d + k }

    /// `x` must stay valid (and unchanged) for the objective's lifetime.
    init(x: UnsafePointer<Float>, rows n: Int, columns d: Int, classes k: Int, labels: [Int32],
         rowWeights: [Float], C: Double, fitIntercept: Bool, standardization: Standardization?,
         initial: [Float]?) throws(HeadsError) {
        self.x = x
        self.n = n
        self.d = d
        self.k = k
        self.labels = labels
        self.rowWeights = rowWeights
        let total = rowWeights.reduce(0.0) { $0 + Double($1) }
        guard total > 0 else { throw .emptyData(what: "training rows (all row weights are 0)") }
        weightSum = total
        lambda = 1 / (C * total)
        self.fitIntercept = fitIntercept
        mean = standardization?.mean
        inverseScale = standardization?.scale.map { 1 / $0 }
        parameters = initial ?? [Float](repeating: 0, count: k * d + k)
        logits = [Float](repeating: 0, count: n * k)
        direction = [Float](repeating: 0, count: k * d + k)
        directionLogits = [Float](repeating: 0, count: n * k)
        rowGradient = [Float](repeating: 0, count: n * k)
        folded = [Float](repeating: 0, count: mean == nil ? 0 : k * d)
        rowScratch = [Float](repeating: 0, count: k)
        if parameters.count != k * d + k {
            throw .shapeMismatch(what: "initial parameters", expected: [k * d + k], got: [parameters.count])
        }
        if parameters[0 ..< k * d].contains(where: { $0 != 0 }) {
            try product(parameters, into: &logits)
        } else {
            // W = 0: the logits are the intercepts, no pass over X needed.
            for i in 0..<n { for c in 0..<k { logits[i * k + c] = parameters[k * d + c] } }
        }
    }

    /// `out[n, k] = X (V / scale)^T + (v_b - (V / scale) . mean)` for a parameter-shaped vector `v`.
    private func product(_ v: [Float], into out: inout [Float]) throws(HeadsError) {
        let (n, d, k) = (self.n, self.d, self.k)
        var offsets = Array(v[k * d ..< k * d + k])
        if let mean, let inverseScale {
            for c in 0..<k {
                var shift = 0.0
                for j in 0..<d {
                    let f = v[c * d + j] * inverseScale[j]
                    folded[c * d + j] = f
                    shift += Double(f) * Double(mean[j])
                }
                offsets[c] -= Float(shift)
            }
        }
        let x = self.x
        try (mean == nil ? v : folded).withUnsafeBufferPointer { (w) throws(HeadsError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(HeadsError) in
                try Sgemm.multiply(transposeA: false, transposeB: true, m: n, n: k, k: d,
                                   a: x, lda: d, b: w.baseAddress!, ldb: d, c: o.baseAddress!, ldc: k)
                for i in 0..<n { for c in 0..<k { o[i * k + c] += offsets[c] } }
            }
        }
    }

    func valueAndGradient(into gradient: inout [Float]) throws(HeadsError) -> Double {
        let (n, d, k) = (self.n, self.d, self.k)
        let inverseS = 1 / weightSum
        var loss = 0.0
        logits.withUnsafeBufferPointer { z in
            rowGradient.withUnsafeMutableBufferPointer { g in
                for i in 0..<n {
                    let zi = z.baseAddress! + i * k, gi = g.baseAddress! + i * k
                    let s = rowWeights[i]
                    if s == 0 { for c in 0..<k { gi[c] = 0 }; continue }
                    let y = Int(labels[i])
                    let row = Self.softmaxRow(zi, label: y, classes: k, exps: gi)
                    loss += Double(s) * row.loss
                    // p_c for c != y, and p_y - 1 = -(sum of the other exps) / sum without cancellation.
                    let scale = Float(Double(s) * inverseS) / row.sum
                    for c in 0..<k { gi[c] *= scale }
                    gi[y] = -row.others * scale
                }
            }
        }
        if gradient.count != parameterCount { gradient = [Float](repeating: 0, count: parameterCount) }
        let x = self.x
        var columnSums = [Double](repeating: 0, count: k)
        for i in 0..<n { for c in 0..<k { columnSums[c] += Double(rowGradient[i * k + c]) } }
        try rowGradient.withUnsafeBufferPointer { (g) throws(HeadsError) in
            try gradient.withUnsafeMutableBufferPointer { (out) throws(HeadsError) in
                // grad_W[k, d] = G^T X
                try Sgemm.multiply(transposeA: true, transposeB: false, m: k, n: d, k: n,
                                   a: g.baseAddress!, lda: k, b: x, ldb: d, c: out.baseAddress!, ldc: d)
            }
        }
        if let mean, let inverseScale {
            for c in 0..<k {
                let sum = Float(columnSums[c])
                for j in 0..<d { gradient[c * d + j] = (gradient[c * d + j] - sum * mean[j]) * inverseScale[j] }
            }
        }
        var norm = 0.0
        let lambdaF = Float(lambda)
        for i in 0 ..< k * d {
            let w = parameters[i]
            norm += Double(w) * Double(w)
            gradient[i] += lambdaF * w
        }
        for c in 0..<k { gradient[k * d + c] = fitIntercept ? Float(columnSums[c]) : 0 }
        return loss * inverseS + 0.5 * lambda * norm
    }

    func setDirection(_ p: [Float]) throws(HeadsError) {
        direction = p
        if !fitIntercept { for c in 0..<k { direction[k * d + c] = 0 } }
        try product(direction, into: &directionLogits)
        var ww = 0.0, wp = 0.0, pp = 0.0
        for i in 0 ..< k * d {
            let w = Double(parameters[i]), q = Double(direction[i])
            ww += w * w
            wp += w * q
            pp += q * q
        }
        (self.ww, self.wp, self.pp) = (ww, wp, pp)
    }

    func valueAndSlope(step: Double) -> (value: Double, slope: Double) {
        let (n, k) = (self.n, self.k)
        let a = Float(step)
        var loss = 0.0, slope = 0.0
        logits.withUnsafeBufferPointer { z in
            directionLogits.withUnsafeBufferPointer { q in
                rowScratch.withUnsafeMutableBufferPointer { t in
                    for i in 0..<n {
                        let s = rowWeights[i]
                        if s == 0 { continue }
                        let zi = z.baseAddress! + i * k, qi = q.baseAddress! + i * k
                        for c in 0..<k { t[c] = zi[c] + a * qi[c] }
                        let y = Int(labels[i])
                        let row = Self.softmaxRow(t.baseAddress!, label: y, classes: k, exps: t.baseAddress!)
                        // d/da of the row loss: sum over c != y of p_c (q_c - q_y).
                        var weighted: Float = 0
                        for c in 0..<k where c != y { weighted += t[c] * (qi[c] - qi[y]) }
                        loss += Double(s) * row.loss
                        slope += Double(s) * Double(weighted / row.sum)
                    }
                }
            }
        }
        let inverseS = 1 / weightSum
        let value = loss * inverseS + 0.5 * lambda * (ww + 2 * step * wp + step * step * pp)
        return (value, slope * inverseS + lambda * (wp + step * pp))
    }

    /// Exponentials `exps[c] = exp(z[c] - max z)` of one row (`exps` may alias `z`), their sum,
    /// the sum over classes other than `label`, and the row's log-loss. The loss is formed as
    /// `(max - z[label]) + log1p(sum of the non-max exps)` so that rows classified with high
    /// confidence keep their tiny losses in Float instead of rounding to 0 - the optimiser needs
    /// them to agree with the gradient near the optimum.
    @inline(__always)
    static func softmaxRow(_ z: UnsafePointer<Float>, label y: Int, classes k: Int,
                           exps: UnsafeMutablePointer<Float>) -> (loss: Double, sum: Float, others: Float) {
        var top = z[0], topIndex = 0
        for c in 1..<k where z[c] > top { top = z[c]; topIndex = c }
        let zy = z[y]
        var nonTop: Float = 0, others: Float = 0
        for c in 0..<k {
            let e = Foundation.exp(z[c] - top)
            exps[c] = e
            if c != topIndex { nonTop += e }
            if c != y { others += e }
        }
        let loss = Double(top - zy) + Double(Foundation.log1p(nonTop))
        return (loss, 1 + nonTop, others)
    }

    func advance(step: Double) {
        let a = Float(step)
        for i in 0..<parameters.count { parameters[i] += a * direction[i] }
        for i in 0..<logits.count { logits[i] += a * directionLogits[i] }
    }
}
