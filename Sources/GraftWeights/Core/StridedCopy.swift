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
        guard let dst = out.baseAddress, count > 0 else { return }
        // Dimensions of size 1 do not move anything: drop them so a [O, I, 1, 1] weight is a 2-D copy.
        let kept = shape.indices.filter { shape[$0] != 1 }
        let shape = kept.map { shape[$0] }, strides = kept.map { strides[$0] }
        switch elementSize {
        case 8: gather(UInt64.self, source, dst, shape, strides, offset)
        case 4: gather(UInt32.self, source, dst, shape, strides, offset)
        case 2: gather(UInt16.self, source, dst, shape, strides, offset)
        default: gather(UInt8.self, source, dst, shape, strides, offset)
        }
    }
}

/// Copies element by element with unaligned loads (storages inside a file need not be aligned).
/// When another dimension is contiguous in the source (a transposed or channels-last weight),
/// copies 32 x 32 tiles of that dimension and the last one, so both reads and writes stay in cache.
private func gather<T: FixedWidthInteger>(_: T.Type, _ source: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer,
                                           _ shape: [Int], _ strides: [Int], _ offset: Int) {
    let size = MemoryLayout<T>.size
    let rank = shape.count
    if rank == 0 {
        dst.storeBytes(of: source.loadUnaligned(fromByteOffset: offset * size, as: T.self), as: T.self)
        return
    }
    let last = rank - 1
    let inner = shape[last], innerStride = strides[last]
    let outStrides = contiguousStrides(shape)
    // The tiled dimension: contiguous in the source, not the last one.
    let tiled = innerStride == 1 ? nil : (0..<last).first { strides[$0] == 1 && shape[$0] > 1 }
    // Odometer over every dimension except the last and the tiled one.
    var index = [Int](repeating: 0, count: rank)
    let outer = (0..<last).filter { $0 != tiled }
    let blocks = outer.reduce(1) { $0 * shape[$1] }
    for _ in 0..<blocks {
        var src = offset, out = 0
        for i in outer {
            src += index[i] * strides[i]
            out += index[i] * outStrides[i]
        }
        if let d = tiled {
            let rows = shape[d], rowStride = outStrides[d]
            for i0 in stride(from: 0, to: rows, by: 32) {
                for j0 in stride(from: 0, to: inner, by: 32) {
                    // Offsets were bounds-checked by the caller: wrapping arithmetic keeps the loop lean.
                    for j in j0..<min(j0 + 32, inner) {
                        let from = src &+ j &* innerStride, to = out &+ j
                        for i in i0..<min(i0 + 32, rows) {
                            let v = source.loadUnaligned(fromByteOffset: (from &+ i) &* size, as: T.self)
                            dst.storeBytes(of: v, toByteOffset: (to &+ i &* rowStride) &* size, as: T.self)
                        }
                    }
                }
            }
        } else if innerStride == 1 {
            (dst + out * size).copyMemory(from: source + src * size, byteCount: inner * size)
        } else {
            for j in 0..<inner {
                let v = source.loadUnaligned(fromByteOffset: (src + j * innerStride) * size, as: T.self)
                dst.storeBytes(of: v, toByteOffset: (out + j) * size, as: T.self)
            }
        }
        var k = outer.count - 1
        while k >= 0 {
            let dim = outer[k]
            index[dim] += 1
            if index[dim] < shape[dim] { break }
            index[dim] = 0
            k -= 1
        }
    }
}
