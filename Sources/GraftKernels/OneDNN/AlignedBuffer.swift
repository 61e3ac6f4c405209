/// A 64-byte aligned heap block (oneDNN's preferred alignment), freed on deinit.
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let bytes: Int

    init(bytes: Int) {
        self.bytes = max(bytes, 64)
        pointer = .allocate(byteCount: self.bytes, alignment: 64)
    }

    var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }

    deinit { pointer.deallocate() }
}
