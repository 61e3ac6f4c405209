import CDNNL

/// Builders for oneDNN memory descriptors (f32 unless a type is given: bf16 operands).
enum MemoryDesc {
    /// Dense layout named by a format tag (or `dnnl_format_tag_any` to let the primitive choose).
    static func tagged(_ dims: [Int], _ tag: dnnl_format_tag_t, type: dnnl_data_type_t = dnnl_f32) throws(KernelError) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map { dnnl_dim_t($0) }
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, type, tag), "memory desc \(dims)")
        return md
    }

    /// Explicit strides in elements (transposed matmul operands).
    static func strided(_ dims: [Int], strides: [Int], type: dnnl_data_type_t = dnnl_f32) throws(KernelError) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map { dnnl_dim_t($0) }, s = strides.map { dnnl_dim_t($0) }
        try dnnlCheck(dnnl_memory_desc_init_by_strides(&md, Int32(d.count), d, type, s),
                  "memory desc \(dims) strides \(strides)")
        return md
    }

    static func equal(_ a: UnsafePointer<dnnl_memory_desc_t>, _ b: UnsafePointer<dnnl_memory_desc_t>) -> Bool {
        dnnl_memory_desc_equal(a, b) != 0
    }

    static func bytes(_ md: UnsafePointer<dnnl_memory_desc_t>) -> Int { Int(dnnl_memory_desc_get_size(md)) }
}

/// A memory descriptor at a stable address, for descriptors no primitive owns
/// (the caller's own layout of a tensor that is reordered).
/// `@unchecked`: a pointer to a descriptor written once in init and only read after.
final class OwnedMemoryDesc: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<dnnl_memory_desc_t>

    init(_ md: dnnl_memory_desc_t) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: md)
    }

    deinit { pointer.deallocate() }
}
