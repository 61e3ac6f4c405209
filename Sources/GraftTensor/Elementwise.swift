import GraftKernels

/// Tight loops over raw buffers shared by the ops. Large arrays split across
/// the OpenMP threads oneDNN already owns, so glue never fights the kernels.
enum Elementwise {
    static let parallelThreshold = 1 << 15

    @inline(__always)
    static func chunked(_ n: Int, _ body: (Range<Int>) -> Void) {
        if n < parallelThreshold { body(0..<n) } else { Kernels.parallelFor(n, body) }
    }

    @inline(__always)
    static func binary(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                       _ n: Int, _ f: (Float, Float) -> Float) {
        chunked(n) { r in for i in r { out[i] = f(a[i], b[i]) } }
    }

    @inline(__always)
    static func unary(_ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Float) -> Float) {
        chunked(n) { r in for i in r { out[i] = f(a[i]) } }
    }
}
