import GraftKernels
import GraftTensor

/// NCHW <-> NHWC copies of rank-4 tensors, where a graph's feeds and results cross between ONNX's layout and the
/// channels-last one Graft's convolutions run in. Each image is a [rows, cols] -> [cols, rows] transpose, cut into
/// blocks of columns spread over the threads: `Tensor.permuted`'s generic index walk took 13.7 ms for a
/// 32x3x224x224 input (3% of a ResNet-18 batch, bench/onnx).
enum ChannelsLastCopy {
    /// [N, C, H, W] -> [N, H, W, C].
    static func nhwc(_ t: Tensor) throws -> Tensor {
        let s = t.shape
        return try transposed(t, images: s[0], rows: s[1], cols: s[2] * s[3], outShape: [s[0], s[2], s[3], s[1]])
    }

    /// [N, H, W, C] -> [N, C, H, W].
    static func nchw(_ t: Tensor) throws -> Tensor {
        let s = t.shape
        return try transposed(t, images: s[0], rows: s[1] * s[2], cols: s[3], outShape: [s[0], s[3], s[1], s[2]])
    }

    private static func transposed(_ t: Tensor, images: Int, rows: Int, cols: Int, outShape: [Int]) throws -> Tensor {
        let out = try Tensor(uninitializedShape: outShape)
        guard t.count > 0 else { return out }
        let block = 64
        let blocks = (cols + block - 1) / block
        let src = UnsafePointer(t.pointer), dst = out.pointer
        withExtendedLifetime(t) {
            Kernels.parallelFor(images * blocks, minimumChunk: Swift.max(1, 16_384 / Swift.max(rows * block, 1))) { jobs in
                for job in jobs {
                    let n = job / blocks, c0 = (job % blocks) * block, c1 = Swift.min(c0 + block, cols)
                    let s = src + n * rows * cols, d = dst + n * rows * cols
                    for r in 0..<rows {
                        let row = s + r * cols
                        for c in c0..<c1 { d[c * rows + r] = row[c] }
                    }
                }
            }
        }
        return out
    }
}
