/// Per-output-pixel filter taps for one axis, computed exactly as Pillow's
/// `precompute_coeffs` (src/libImaging/Resample.c) does for the bilinear
/// (triangle) filter: when shrinking, the filter support is stretched by the
/// scale factor, which is the antialiasing.
struct ResampleWeights {
    /// Number of taps reserved per output pixel.
    let taps: Int
    /// For output pixel i: first source index `first[i]` and tap count `count[i]`.
    let first: [Int]
    let count: [Int]
    /// Normalised weights, `taps` per output pixel (unused taps are 0).
    let weights: [Double]

    /// Pillow's fixed-point precision for 8-bit images: 32 - 8 - 2 bits.
    static let precisionBits = 22

    /// Taps mapping `inSize` source pixels onto `outSize` output pixels.
    init(inSize: Int, outSize: Int) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale            // the triangle filter's support is 1
        let taps = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize)
        var count = [Int](repeating: 0, count: outSize)
        var weights = [Double](repeating: 0, count: outSize * taps)
        let inverse = 1.0 / filterScale
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            // Pillow truncates after adding 0.5: `(int)(center - support + 0.5)`.
            let lo = max(0, Int(center - support + 0.5))
            let hi = min(inSize, Int(center + support + 0.5))
            let n = hi - lo
            var total = 0.0
            for k in 0..<n {
                let w = max(0, 1 - abs((Double(k + lo) - center + 0.5) * inverse))
                weights[i * taps + k] = w
                total += w
            }
            if total != 0 { for k in 0..<n { weights[i * taps + k] /= total } }
            first[i] = lo
            count[i] = n
        }
        self.taps = taps
        self.first = first
        self.count = count
        self.weights = weights
    }

    /// Weights rounded to Pillow's 22-bit fixed point (`normalize_coeffs_8bpc`).
    func fixedPoint() -> [Int32] {
        let one = Double(1 << Self.precisionBits)
        return weights.map { w in Int32(w < 0 ? -0.5 + w * one : 0.5 + w * one) }
    }
}
