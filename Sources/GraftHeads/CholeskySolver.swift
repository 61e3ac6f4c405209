/// Solves `A X = B` for a symmetric positive definite `A` (`n x n`, row-major) and `B` (`n x m`) by
/// Cholesky factorisation, in Double: ridge's normal equations, where `A` is a Gram matrix plus alpha I.
enum CholeskySolver {
    static func solve(_ a: [Double], n: Int, _ b: [Double], columns m: Int) throws(HeadsError) -> [Double] {
        var l = a
        for j in 0..<n {
            var diagonal = l[j * n + j]
            for k in 0..<j { diagonal -= l[j * n + k] * l[j * n + k] }
            guard diagonal > 0, diagonal.isFinite else {
                throw .invalidOption(name: "alpha", reason: "the regularised Gram matrix is not positive definite (pivot \(j)); use a larger alpha")
            }
            let root = diagonal.squareRoot()
            l[j * n + j] = root
            for i in (j + 1)..<max(n, j + 1) {
                var s = l[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = s / root
            }
        }
        var x = b
        for c in 0..<m {
            // L y = b, then L^T x = y.
            for i in 0..<n {
                var s = x[i * m + c]
                for k in 0..<i { s -= l[i * n + k] * x[k * m + c] }
                x[i * m + c] = s / l[i * n + i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                var s = x[i * m + c]
                for k in (i + 1)..<max(n, i + 1) { s -= l[k * n + i] * x[k * m + c] }
                x[i * m + c] = s / l[i * n + i]
            }
        }
        return x
    }
}
