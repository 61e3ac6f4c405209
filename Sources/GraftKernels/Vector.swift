import CGraftKernels

/// Elementwise loops and reductions over contiguous Float32 arrays at full
/// vector width (AVX-512 / AVX2 picked at load time), split across threads
/// for large counts. Outputs may alias inputs of the same layout.
public enum Vector {
    // MARK: Same-length binary ops: out[i] = x[i] op y[i]

    public static func add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        graft_add(x, y, out, Int64(count))
    }

    public static func sub(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        graft_sub(x, y, out, Int64(count))
    }

    public static func mul(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        graft_mul(x, y, out, Int64(count))
    }

    public static func div(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        graft_div(x, y, out, Int64(count))
    }

    // MARK: Last-dim broadcast: out[r*cols + c] = x[r*cols + c] op row[c]

    public static func addRow(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                              rows: Int, cols: Int) {
        graft_add_row(x, row, out, Int64(rows), Int64(cols))
    }

    public static func subRow(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                              rows: Int, cols: Int) {
        graft_sub_row(x, row, out, Int64(rows), Int64(cols))
    }

    public static func mulRow(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                              rows: Int, cols: Int) {
        graft_mul_row(x, row, out, Int64(rows), Int64(cols))
    }

    public static func divRow(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                              rows: Int, cols: Int) {
        graft_div_row(x, row, out, Int64(rows), Int64(cols))
    }

    /// out[r*cols + c] = x[r*cols + c] * scale[c] + shift[c] (per-channel affine).
    public static func affineRow(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                 into out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        graft_affine_row(x, scale, shift, out, Int64(rows), Int64(cols))
    }

    // MARK: Scalar ops

    /// out[i] = x[i] * scale + shift.
    public static func scaleShift(_ x: UnsafePointer<Float>, scale: Float, shift: Float = 0,
                                  into out: UnsafeMutablePointer<Float>, count: Int) {
        graft_scale_shift(x, scale, shift, out, Int64(count))
    }

    /// x[i] *= factor, in place.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        graft_scale_shift(x, factor, 0, x, Int64(count))
    }

    /// y[i] += a * x[i].
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        graft_axpy(a, x, y, Int64(count))
    }

    /// x[i] = value.
    public static func fill(_ x: UnsafeMutablePointer<Float>, with value: Float, count: Int) {
        graft_fill(x, value, Int64(count))
    }

    /// out[i] = x[i] (overlapping ranges allowed).
    public static func copy(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        graft_copy(x, out, Int64(count))
    }

    // MARK: Reductions

    /// out[c] = sum over rows of x[r*cols + c] (adds into out when `accumulate`);
    /// the bias gradient of a [rows, C] activation.
    public static func sumColumns(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>,
                                  accumulate: Bool = false) {
        graft_sum_columns(x, Int64(rows), Int64(cols), out, accumulate ? 1 : 0)
    }

    /// out[r] = sum over cols of x[r*cols + c].
    public static func sumRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        graft_sum_rows(x, Int64(rows), Int64(cols), out)
    }

    /// Sum of all values, accumulated in float blocks added in double.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        graft_sum(x, Int64(count))
    }

    /// sum_i x[i] * y[i].
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Double {
        graft_dot(x, y, Int64(count))
    }

    /// Per row of [rows, cols]: the maximum and the index of its first occurrence.
    public static func maxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int,
                               max: UnsafeMutablePointer<Float>?, argmax: UnsafeMutablePointer<Int>?) {
        graft_max_rows(x, Int64(rows), Int64(cols), max, argmax.map { UnsafeMutablePointer<Int64>(OpaquePointer($0)) })
    }
}
