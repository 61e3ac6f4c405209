/// How many bytes a reader may still allocate for tensors it has to copy or decode
/// (strided views, Fortran order, packed protobuf numbers): the file's size plus 1 MiB.
/// Zero-copy views cost nothing, so a legitimate file never comes near the limit.
struct CopyBudget {
    let file: String
    private(set) var remaining: Int

    init(file: String, fileSize: Int) {
        self.file = file
        remaining = fileSize + (1 << 20)
    }

    mutating func spend(_ n: Int, _ context: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw WeightsError.sizeExceedsFile(file: file, context: context() + " (decoded copies are limited to the file size plus 1 MiB)",
                                               declared: UInt64(max(n, 0)), available: remaining)
        }
        remaining -= n
    }
}

/// C-contiguous strides (in elements) of `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s &*= max(shape[i], 1)
    }
    return strides
}

/// True when a view with these strides is laid out like a C-contiguous array (dimensions of
/// size 1 may have any stride, as PyTorch allows).
func isContiguous(shape: [Int], strides: [Int]) -> Bool {
    var expected = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
        if strides[i] != expected { return false }
        expected &*= shape[i]
    }
    return true
}

/// Index of the last element a strided view touches, or nil on overflow. Assumes non-negative
/// sizes and strides and at least one element.
func lastIndex(shape: [Int], strides: [Int], offset: Int) -> Int? {
    var last = offset
    for (d, s) in zip(shape, strides) {
        let (a, o1) = (d - 1).multipliedReportingOverflow(by: s)
        let (b, o2) = last.addingReportingOverflow(a)
        if o1 || o2 { return nil }
        last = b
    }
    return last
}

/// Copies the strided view (`shape`, `strides` and `offset` in elements) of `source` into a
/// new C-contiguous buffer. The caller has bounds-checked the view with `lastIndex`.
func gatherStrided(_ source: UnsafeRawPointer, elementSize: Int, shape: [Int], strides: [Int], offset: Int) -> ByteStorage {
    let count = (elementCount(shape) ?? 0) * elementSize
    return ByteStorage(count: count) { out in
        guard let dst = out.baseAddress else { return }
        let rank = shape.count
        if rank == 0 {
            dst.copyMemory(from: source + offset * elementSize, byteCount: elementSize)
            return
        }
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        var written = 0
        while written < count {
            var element = offset
            for i in 0..<(rank - 1) { element += index[i] * strides[i] }
            if innerStride == 1 {
                dst.advanced(by: written).copyMemory(from: source + element * elementSize, byteCount: inner * elementSize)
                written += inner * elementSize
            } else {
                for j in 0..<inner {
                    dst.advanced(by: written).copyMemory(from: source + (element + j * innerStride) * elementSize, byteCount: elementSize)
                    written += elementSize
                }
            }
            // Odometer over the outer dimensions.
            var k = rank - 2
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
    }
}
