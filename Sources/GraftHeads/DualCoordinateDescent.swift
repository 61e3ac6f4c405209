import GraftCore
import GraftKernels
/// LIBLINEAR's dual coordinate descent for the L2-regularised squared-hinge SVM (its solver
/// `L2R_L2LOSS_SVC_DUAL`, scikit-learn's `LinearSVC` default), for several one-vs-rest problems at
/// once. Each problem minimises
///
///     0.5 (||w||^2 + w_b^2) + sum_i C_i max(0, 1 - y_i (w . x_i + w_b B))^2
///
/// where `B` is the bias feature (LIBLINEAR's intercept: appended to every row, so the intercept is
/// penalised like any weight). The dual variable of a row moves by a Newton step clipped at 0;
/// rows whose variable is 0 and whose gradient is well inside the margin are shrunk out, and the
/// full set is rechecked before stopping, as in LIBLINEAR.
///
/// The problems share one pass over the rows per epoch: each row is read once and updates every
/// problem where it is still active, so the features are streamed once per epoch, not once per
/// class.
struct DualCoordinateDescent {
    var tolerance = 1e-4
    var maxIterations = 1000
    var shrinking = true
    var seed: UInt64 = 0
    /// The value of the bias feature `B`; 0 fits no intercept.
    var biasFeature: Float = 1

    struct Problem {
        /// Class index that is the positive side; every other class is negative.
        var positive: Int32
        var cPositive: Double
        var cNegative: Double
    }

    struct Solution {
        /// `[problems, d]` row-major.
        var weights: [Float]
        /// `w_b * B` per problem.
        var bias: [Float]
        var iterations: [Int]
        var converged: [Bool]
        /// Primal objective per problem.
        var objective: [Double]
    }

    func solve(x: UnsafePointer<Float>, columns d: Int, rows: [Int], classIndex: [Int32],
               problems: [Problem]) -> Solution {
        let m = rows.count, count = problems.count
        let b = Double(biasFeature)
        var squaredNorm = [Double](repeating: 0, count: m)
        for (pos, i) in rows.enumerated() {
            squaredNorm[pos] = Vector.dot(x + i * d, x + i * d, count: d) + b * b
        }
        var w = [Float](repeating: 0, count: count * d)
        var wb = [Double](repeating: 0, count: count)
        var alpha = [Double](repeating: 0, count: count * m)
        var active = [Bool](repeating: true, count: count * m)
        var activeCount = [Int](repeating: m, count: count)
        var pgMaxOld = [Double](repeating: .infinity, count: count)
        var pgMinOld = [Double](repeating: -.infinity, count: count)
        var pgMaxNew = pgMaxOld, pgMinNew = pgMinOld
        var done = [Bool](repeating: false, count: count)
        var converged = [Bool](repeating: false, count: count)
        var iterations = [Int](repeating: 0, count: count)
        var generator = SeededGenerator(seed: seed)
        var order = Array(0..<m)
        let eps = tolerance
        let sign: (Int, Int) -> Double = { pos, p in classIndex[rows[pos]] == problems[p].positive ? 1 : -1 }

        w.withUnsafeMutableBufferPointer { wBuffer in
            let wBase = wBuffer.baseAddress!
            while true {
                let running = (0..<count).filter { !done[$0] }
                if running.isEmpty { break }
                for p in running { pgMaxNew[p] = -.infinity; pgMinNew[p] = .infinity }
                order.shuffle(using: &generator)
                for pos in order {
                    let xi = x + rows[pos] * d
                    for p in running where active[p * m + pos] {
                        let index = p * m + pos
                        let y = sign(pos, p)
                        let diag = 0.5 / (y > 0 ? problems[p].cPositive : problems[p].cNegative)
                        let wp = wBase + p * d
                        let margin = Vector.dot(wp, xi, count: d) + wb[p] * b
                        let g = y * margin - 1 + alpha[index] * diag
                        var pg = 0.0
                        if alpha[index] == 0 {
                            if shrinking, g > pgMaxOld[p] {
                                active[index] = false
                                activeCount[p] -= 1
                                continue
                            }
                            if g < 0 { pg = g }
                        } else {
                            pg = g
                        }
                        pgMaxNew[p] = max(pgMaxNew[p], pg)
                        pgMinNew[p] = min(pgMinNew[p], pg)
                        if abs(pg) > 1e-12 {
                            let old = alpha[index]
                            alpha[index] = max(old - g / (squaredNorm[pos] + diag), 0)
                            let delta = (alpha[index] - old) * y
                            Vector.axpy(Float(delta), xi, wp, count: d)
                            wb[p] += delta * b
                        }
                    }
                }
                for p in running {
                    iterations[p] += 1
                    if pgMaxNew[p] - pgMinNew[p] <= eps {
                        if activeCount[p] == m {
                            converged[p] = true
                            done[p] = true
                            continue
                        }
                        // Converged on the shrunk set: recheck every row once more.
                        for pos in 0..<m { active[p * m + pos] = true }
                        activeCount[p] = m
                        pgMaxOld[p] = .infinity
                        pgMinOld[p] = -.infinity
                    } else {
                        pgMaxOld[p] = pgMaxNew[p] <= 0 ? .infinity : pgMaxNew[p]
                        pgMinOld[p] = pgMinNew[p] >= 0 ? -.infinity : pgMinNew[p]
                    }
                    if iterations[p] >= maxIterations { done[p] = true }
                }
            }
        }

        // Primal objective of each problem, for the summary and for comparing with LIBLINEAR.
        var objective = [Double](repeating: 0, count: count)
        for p in 0..<count {
            var sum = 0.5 * wb[p] * wb[p]
            w.withUnsafeBufferPointer { wv in
                sum += 0.5 * Vector.dot(wv.baseAddress! + p * d, wv.baseAddress! + p * d, count: d)
                for (pos, i) in rows.enumerated() {
                    let y = sign(pos, p)
                    let margin = Vector.dot(wv.baseAddress! + p * d, x + i * d, count: d) + wb[p] * b
                    let loss = max(0, 1 - y * margin)
                    sum += (y > 0 ? problems[p].cPositive : problems[p].cNegative) * loss * loss
                }
            }
            objective[p] = sum
        }
        return Solution(weights: w, bias: wb.map { Float($0 * b) }, iterations: iterations,
                        converged: converged, objective: objective)
    }
}
