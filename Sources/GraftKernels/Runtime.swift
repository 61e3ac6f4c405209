import CDNNL
import CGraftKernels

/// The oneDNN CPU engine and the thread count shared by oneDNN and the glue loops.
public enum Runtime {
    /// oneDNN's version, e.g. "2.6.3".
    public static var oneDNNVersion: String {
        guard let v = dnnl_version()?.pointee else { return "?" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The instruction set oneDNN's JIT kernels target on this CPU.
    public static var isa: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: "sse41"
        case dnnl_cpu_isa_avx: "avx"
        case dnnl_cpu_isa_avx2: "avx2"
        case dnnl_cpu_isa_avx2_vnni: "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic: "avx512_mic"
        case dnnl_cpu_isa_avx512_mic_4ops: "avx512_mic_4ops"
        case dnnl_cpu_isa_avx512_core: "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: "avx512_core_amx"
        case let other: "isa(0x\(String(other.rawValue, radix: 16)))"
        }
    }

    /// Threads used by every kernel: `GRAFT_THREADS` when set, else OpenMP's
    /// default (all cores, or `OMP_NUM_THREADS`).
    public static var threads: Int { Int(graft_threads()) }

    /// Changes the thread count for all later kernel calls. Cached primitives
    /// were planned for the old count, so they are rebuilt.
    public static func setThreads(_ count: Int) {
        graft_set_threads(Int32(clamping: max(1, count)))
        Kernels.clearCaches()
    }

    /// The engine, created on first use; a failure is kept and thrown by every kernel call.
    private static let engineResult = Result<Engine, KernelError> { () throws(KernelError) in try Engine() }

    static func engine() throws(KernelError) -> dnnl_engine_t { try engineResult.get().handle }
}

/// The process-wide oneDNN CPU engine. `@unchecked`: a C handle, immutable after
/// creation and shared by every stream and primitive, as oneDNN allows.
final class Engine: @unchecked Sendable {
    let handle: dnnl_engine_t

    init() throws(KernelError) {
        var e: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&e, dnnl_cpu, 0), "CPU engine create")
        handle = e!
    }
}
