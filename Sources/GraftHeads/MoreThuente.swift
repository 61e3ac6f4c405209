/// The Moré-Thuente line search (MINPACK-2 `dcsrch`/`dcstep`, as used by L-BFGS-B): finds a step
/// meeting the strong Wolfe conditions `f(a) <= f(0) + ftol a f'(0)` and `|f'(a)| <= gtol |f'(0)|`
/// by safeguarded cubic and quadratic interpolation.
struct MoreThuente {
    var ftol = 1e-3
    var gtol = 0.9
    var xtol = 0.1
    var stepMin = 0.0
    var stepMax = 1e10
    var maxEvaluations = 50

    enum Outcome: Equatable { case converged, warning, tooManyEvaluations, notDescent }

    /// Searches from `step` along a line where `phi(0) = value0`, `phi'(0) = slope0 < 0`.
    /// Returns the final step, its value and slope, evaluations used and how it ended.
    func search(
        value0: Double, slope0: Double, initialStep: Double,
        evaluate: (Double) -> (value: Double, slope: Double)
    ) -> (step: Double, value: Double, slope: Double, evaluations: Int, outcome: Outcome) {
        guard slope0 < 0 else { return (0, value0, slope0, 0, .notDescent) }
        let xtrapl = 1.1, xtrapu = 4.0
        var stp = min(max(initialStep, stepMin), stepMax)
        var brackt = false
        var stage = 1
        let finit = value0, ginit = slope0, gtest = ftol * ginit
        var width = stepMax - stepMin, width1 = 2 * width
        var stx = 0.0, fx = finit, gx = ginit
        var sty = 0.0, fy = finit, gy = ginit
        var stmin = 0.0, stmax = stp + xtrapu * stp
        var evaluations = 0
        while true {
            let (f, g) = evaluate(stp)
            evaluations += 1
            let ftest = finit + stp * gtest
            if stage == 1, f <= ftest, g >= 0 { stage = 2 }
            if f <= ftest, abs(g) <= gtol * -ginit { return (stp, f, g, evaluations, .converged) }
            if brackt, stp <= stmin || stp >= stmax { return (stp, f, g, evaluations, .warning) }
            if brackt, stmax - stmin <= xtol * stmax { return (stp, f, g, evaluations, .warning) }
            if stp == stepMax, f <= ftest, g <= gtest { return (stp, f, g, evaluations, .warning) }
            if stp == stepMin, f > ftest || g >= gtest { return (stp, f, g, evaluations, .warning) }
            if evaluations >= maxEvaluations { return (stp, f, g, evaluations, .tooManyEvaluations) }

            if stage == 1, f <= fx, f > ftest {
                // Use the modified function psi(a) = f(a) - f(0) - ftol a f'(0) until it is bracketed.
                var fxm = fx - stx * gtest, fym = fy - sty * gtest
                var gxm = gx - gtest, gym = gy - gtest
                Self.step(stx: &stx, fx: &fxm, dx: &gxm, sty: &sty, fy: &fym, dy: &gym,
                          stp: &stp, fp: f - stp * gtest, dp: g - gtest,
                          brackt: &brackt, stpmin: stmin, stpmax: stmax)
                fx = fxm + stx * gtest
                fy = fym + sty * gtest
                gx = gxm + gtest
                gy = gym + gtest
            } else {
                Self.step(stx: &stx, fx: &fx, dx: &gx, sty: &sty, fy: &fy, dy: &gy,
                          stp: &stp, fp: f, dp: g, brackt: &brackt, stpmin: stmin, stpmax: stmax)
            }
            if brackt {
                // Force sufficient shrinking of the interval by bisection.
                if abs(sty - stx) >= 0.66 * width1 { stp = stx + 0.5 * (sty - stx) }
                width1 = width
                width = abs(sty - stx)
                stmin = min(stx, sty)
                stmax = max(stx, sty)
            } else {
                stmin = stp + xtrapl * (stp - stx)
                stmax = stp + xtrapu * (stp - stx)
            }
            stp = min(max(stp, stepMin), stepMax)
            if brackt && (stp <= stmin || stp >= stmax) || brackt && stmax - stmin <= xtol * stmax {
                stp = stx
            }
        }
    }

    /// One safeguarded step of the interval update (`dcstep`).
    // swiftlint:disable:next function_parameter_count
    static func step(
        stx: inout Double, fx: inout Double, dx: inout Double,
        sty: inout Double, fy: inout Double, dy: inout Double,
        stp: inout Double, fp: Double, dp: Double,
        brackt: inout Bool, stpmin: Double, stpmax: Double
    ) {
        let sgnd = dp * (dx / abs(dx))
        var stpf: Double
        if fp > fx {
            // Higher value: the minimum is bracketed; take the cubic step or a mix with the quadratic.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * max(0, (theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp < stx { gamma = -gamma }
            let p = (gamma - dx) + theta
            let q = ((gamma - dx) + gamma) + dp
            let stpc = stx + (p / q) * (stp - stx)
            let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2) * (stp - stx)
            stpf = abs(stpc - stx) < abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2
            brackt = true
        } else if sgnd < 0 {
            // Derivatives of opposite sign: bracketed; take the step farther from stp.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * max(0, (theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp > stx { gamma = -gamma }
            let p = (gamma - dp) + theta
            let q = ((gamma - dp) + gamma) + dx
            let stpc = stp + (p / q) * (stx - stp)
            let stpq = stp + (dp / (dp - dx)) * (stx - stp)
            stpf = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
            brackt = true
        } else if abs(dp) < abs(dx) {
            // Same sign, derivative magnitude decreasing.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * max(0, (theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp > stx { gamma = -gamma }
            let p = (gamma - dp) + theta
            let q = (gamma + (dx - dp)) + gamma
            let r = p / q
            let stpc: Double
            if r < 0, gamma != 0 { stpc = stp + r * (stx - stp) } else if stp > stx { stpc = stpmax } else { stpc = stpmin }
            let stpq = stp + (dp / (dp - dx)) * (stx - stp)
            if brackt {
                stpf = abs(stpc - stp) < abs(stpq - stp) ? stpc : stpq
                if stp > stx { stpf = min(stp + 0.66 * (sty - stp), stpf) } else { stpf = max(stp + 0.66 * (sty - stp), stpf) }
            } else {
                stpf = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
                stpf = max(stpmin, min(stpmax, stpf))
            }
        } else {
            // Same sign, derivative magnitude not decreasing.
            if brackt {
                let theta = 3 * (fp - fy) / (sty - stp) + dy + dp
                let s = max(abs(theta), abs(dy), abs(dp))
                var gamma = s * max(0, (theta / s) * (theta / s) - (dy / s) * (dp / s)).squareRoot()
                if stp > sty { gamma = -gamma }
                let p = (gamma - dp) + theta
                let q = ((gamma - dp) + gamma) + dy
                stpf = stp + (p / q) * (sty - stp)
            } else {
                stpf = stp > stx ? stpmax : stpmin
            }
        }
        if fp > fx {
            sty = stp; fy = fp; dy = dp
        } else {
            if sgnd < 0 { sty = stx; fy = fx; dy = dx }
            stx = stp; fx = fp; dx = dp
        }
        stp = stpf
    }
}
