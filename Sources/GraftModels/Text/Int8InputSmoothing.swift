import Foundation
import GraftNN
import GraftTensor

/// int8 linears that read a LayerNorm's output, smoothed per input column (SmoothQuant's migration, Xiao et al. 2023):
/// x W^T = (x / s) (W diag(s))^T, with s_j = sqrt(a_j / w_j), a_j = |gamma_j| + |beta_j| of the norm (what the column's
/// values scale with: the norm's output is n gamma + beta with n of unit variance; MiniLM's int8 is dynamic, so there is
/// no calibration maximum to use) and w_j = max_o |W_oj|. Columns the norm makes large are divided down before each
/// row's u8 codes are taken, so the row's range no longer goes to a few outlier columns, and the weights, per output
/// channel, absorb them. One s fits one weight: query, key and value each get their own (one s for the packed QKV
/// weight measured no better than none), so under int8 they run as three linears. docs/PRECISION.md "int8 linears".
enum Int8InputSmoothing {
    /// `GRAFT_INT8_SMOOTHING=0` turns it off (measurement); task-local for tests.
    @TaskLocal static var enabled: Bool = ProcessInfo.processInfo.environment["GRAFT_INT8_SMOOTHING"] != "0"

    /// W diag(s) and 1 / s for `weight` [out, in] read after `norm`. s is divided by its median (a common factor
    /// cancels in the per-row and per-channel scales; this keeps values near their old size); a column with no weight
    /// or no norm scale keeps s = 1.
    static func smoothed(weight: Tensor, norm: LayerNorm) throws -> (weight: Tensor, inverse: Tensor) {
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        guard norm.weight.count == inputs, norm.bias.count == inputs else {
            throw TensorError.shapeMismatch(op: "int8 input smoothing", lhs: [inputs], rhs: norm.weight.shape)
        }
        let w = weight.values, gamma = norm.weight.values, beta = norm.bias.values
        var raw = [Float](repeating: .nan, count: inputs)
        for j in 0..<inputs {
            var m: Float = 0
            for o in 0..<outputs { m = max(m, abs(w[o * inputs + j])) }
            let a = abs(gamma[j]) + abs(beta[j])
            if m > 0, a > 0, a.isFinite, m.isFinite { raw[j] = (a / m).squareRoot() }
        }
        let valid = raw.filter { !$0.isNaN }.sorted()
        let median = valid.isEmpty ? 1 : valid[valid.count / 2]
        let s = raw.map { $0.isNaN ? 1 : $0 / median }
        var scaled = w
        for o in 0..<outputs { for j in 0..<inputs { scaled[o * inputs + j] *= s[j] } }
        return (try Tensor(shape: weight.shape, values: scaled), try Tensor(shape: [inputs], values: s.map { 1 / $0 }))
    }
}

/// A smoothed weight and the version of everything it was made from.
struct SmoothedInt8Weight {
    let stamp: [[Int]]
    let weight: Tensor, inverse: Tensor
}
