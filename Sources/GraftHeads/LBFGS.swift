import GraftKernels

/// Why an optimiser stopped.
public enum StopReason: String, Codable, Sendable {
    /// The largest gradient component fell below the tolerance.
    case gradientTolerance
    /// The relative decrease of the objective fell below the function tolerance.
    case functionTolerance
    /// The iteration limit was reached first.
    case maxIterations
    /// No step along the search direction lowered the objective (the point is optimal to
    /// float precision).
    case lineSearchFailed
    /// A fixed number of passes over streamed data finished (mini-batch training).
    case epochsCompleted
    /// Dual coordinate descent met its projected-gradient tolerance.
    case dualTolerance
    /// Nothing to iterate: class means, remembered rows or a closed-form solve.
    case closedForm
}

/// Limited-memory BFGS with a Moré-Thuente strong-Wolfe line search, stopping like scipy's
/// L-BFGS-B (which scikit-learn uses): max |gradient| <= `gradientTolerance`, or relative decrease
/// <= `functionTolerance`, or `maxIterations`.
struct LBFGS {
    var memory = 10
    var gradientTolerance = 1e-4
    var functionTolerance = 64 * Double.ulpOfOne
    var maxIterations = 100
    var maxLineSearchEvaluations = 50

    struct Result {
        var iterations: Int
        var value: Double
        var gradientMaxAbs: Double
        var stop: StopReason
        var functionEvaluations: Int
        /// The value or gradient became NaN or infinite (non-finite input, or divergence).
        var nonFinite = false
    }

    func minimize(_ objective: some LineSearchObjective) throws(HeadsError) -> Result {
        let count = objective.parameterCount
        var gradient = [Float](repeating: 0, count: count)
        var value = try objective.valueAndGradient(into: &gradient)
        var steps = [[Float]](), changes = [[Float]](), rho = [Double]()
        var iterations = 0, evaluations = 1
        var search = MoreThuente()
        search.maxEvaluations = maxLineSearchEvaluations
        while true {
            if !value.isFinite || gradient.contains(where: { !$0.isFinite }) {
                return Result(iterations: iterations, value: value, gradientMaxAbs: .nan,
                              stop: .lineSearchFailed, functionEvaluations: evaluations, nonFinite: true)
            }
            let gmax = Double(gradient.lazy.map { abs($0) }.max() ?? 0)
            if gmax <= gradientTolerance {
                return Result(iterations: iterations, value: value, gradientMaxAbs: gmax,
                              stop: .gradientTolerance, functionEvaluations: evaluations)
            }
            if iterations >= maxIterations {
                return Result(iterations: iterations, value: value, gradientMaxAbs: gmax,
                              stop: .maxIterations, functionEvaluations: evaluations)
            }
            var direction = Self.twoLoop(gradient: gradient, steps: steps, changes: changes, rho: rho)
            var slope = dot(direction, gradient)
            if !(slope < 0) {
                steps.removeAll(); changes.removeAll(); rho.removeAll()
                direction = gradient.map { -$0 }
                slope = -dot(gradient, gradient)
            }
            try objective.setDirection(direction)
            // L-BFGS-B starts a fresh memory with a step of 1 / ||d||, later iterations with 1.
            let initialStep = steps.isEmpty ? min(1 / dot(direction, direction).squareRoot(), 1e10) : 1
            let found = search.search(value0: value, slope0: slope, initialStep: initialStep,
                                      evaluate: { objective.valueAndSlope(step: $0) })
            evaluations += found.evaluations
            let usable = found.outcome == .converged || (found.outcome != .notDescent && found.value < value)
            if !usable || found.step <= 0 {
                if !steps.isEmpty {
                    // Restart from steepest descent before giving up, as L-BFGS-B does.
                    steps.removeAll(); changes.removeAll(); rho.removeAll()
                    continue
                }
                return Result(iterations: iterations, value: value, gradientMaxAbs: gmax,
                              stop: .lineSearchFailed, functionEvaluations: evaluations)
            }
            objective.advance(step: found.step)
            let previousValue = value, previousGradient = gradient
            value = try objective.valueAndGradient(into: &gradient)
            iterations += 1
            let s = direction.map { Float(found.step) * $0 }
            var y = gradient
            for i in 0..<count { y[i] -= previousGradient[i] }
            let sy = dot(s, y), yy = dot(y, y)
            if sy > Double.ulpOfOne * yy {
                if steps.count == memory { steps.removeFirst(); changes.removeFirst(); rho.removeFirst() }
                steps.append(s)
                changes.append(y)
                rho.append(1 / sy)
            }
            if (previousValue - value) / max(abs(previousValue), abs(value), 1) <= functionTolerance {
                let gmax = Double(gradient.lazy.map { abs($0) }.max() ?? 0)
                return Result(iterations: iterations, value: value, gradientMaxAbs: gmax,
                              stop: gmax <= gradientTolerance ? .gradientTolerance : .functionTolerance,
                              functionEvaluations: evaluations)
            }
        }
    }

    /// `-H g` from the stored pairs, with the initial matrix scaled by `s.y / y.y` of the newest pair.
    static func twoLoop(gradient: [Float], steps: [[Float]], changes: [[Float]], rho: [Double]) -> [Float] {
        var q = gradient.map { -$0 }
        guard let lastS = steps.last, let lastY = changes.last else { return q }
        var alpha = [Double](repeating: 0, count: steps.count)
        for i in stride(from: steps.count - 1, through: 0, by: -1) {
            alpha[i] = rho[i] * dot(steps[i], q)
            axpy(Float(-alpha[i]), changes[i], &q)
        }
        let gamma = Float(dot(lastS, lastY) / dot(lastY, lastY))
        for i in 0..<q.count { q[i] *= gamma }
        for i in 0..<steps.count {
            let beta = rho[i] * dot(changes[i], q)
            axpy(Float(alpha[i] - beta), steps[i], &q)
        }
        return q
    }
}

/// `sum a[i] * b[i]` on the kernels layer's dot (float lanes, blocks added in Double).
func dot(_ a: [Float], _ b: [Float]) -> Double {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in Vector.dot(a.baseAddress!, b.baseAddress!, count: min(a.count, b.count)) }
    }
}

/// `y += a * x` on the kernels layer's axpy.
func axpy(_ a: Float, _ x: [Float], _ y: inout [Float]) {
    x.withUnsafeBufferPointer { x in
        y.withUnsafeMutableBufferPointer { y in Vector.axpy(a, x.baseAddress!, y.baseAddress!, count: min(x.count, y.count)) }
    }
}
