/// Small vector loops for the SVM solver, written with SIMD types because LLVM will not
/// reassociate a Float reduction on its own.
enum VectorKernels {
    /// `sum_j a[j] * b[j]` over `count` values.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var j = 0
        while j + 32 <= count {
            s0 += load16(a + j) * load16(b + j)
            s1 += load16(a + j + 16) * load16(b + j + 16)
            j += 32
        }
        while j + 16 <= count {
            s0 += load16(a + j) * load16(b + j)
            j += 16
        }
        var sum = (s0 + s1).sum()
        while j < count { sum += a[j] * b[j]; j += 1 }
        return sum
    }

    /// `y[j] += alpha * x[j]` over `count` values.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        var j = 0
        let a = SIMD16<Float>(repeating: alpha)
        while j + 16 <= count {
            store16(load16(UnsafePointer(y + j)) + a * load16(x + j), y + j)
            j += 16
        }
        while j < count { y[j] += alpha * x[j]; j += 1 }
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}
