import CGraftKernels

extension Kernels {
    /// Splits [0, n) into at most one contiguous chunk per thread, each at least
    /// `minimumChunk` long, and runs `body` on the chunks in parallel on the
    /// OpenMP threads oneDNN uses. Runs inline when one chunk suffices or when
    /// called from inside another parallel body. Chunks write disjoint data only.
    public static func parallelFor(_ n: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard n > 0 else { return }
        if n == 1 || n < 2 * minimumChunk || Runtime.threads == 1 { body(0..<n); return }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { pointer in
                graft_parallel_for(Int64(n), Int64(max(minimumChunk, 1)), pointer) { context, begin, end in
                    let body = context!.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee
                    body(Int(begin)..<Int(end))
                }
            }
        }
    }
}
