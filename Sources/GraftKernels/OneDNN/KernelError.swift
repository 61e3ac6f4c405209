import CDNNL

/// A kernel call that could not run: oneDNN refused or failed a primitive (out of memory included),
/// a scratch buffer could not be allocated, or the caller passed a geometry no kernel can run.
/// Thrown, never fatal: a server answers that one request with an error and keeps serving.
public enum KernelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// oneDNN returned `status` (its C enum value, named in `reason`) for `primitive` (the step and
    /// the shapes involved, e.g. "[conv geometry] forward primitive").
    case oneDNN(primitive: String, status: Int, reason: String)
    /// An aligned buffer of `bytes` for `what` could not be allocated.
    case outOfMemory(what: String, bytes: Int)
    /// The geometry (or arguments) of `primitive` cannot run: `reason` says why.
    case invalidArguments(primitive: String, reason: String)
    /// This CPU (or this version) cannot compute in `precision`: `reason` says what it lacks.
    case unsupportedPrecision(precision: Precision, reason: String)

    public var description: String {
        switch self {
        case let .oneDNN(primitive, status, reason):
            return "oneDNN \(primitive): \(reason) (status \(status))"
        case let .outOfMemory(what, bytes):
            return "out of memory allocating \(bytes) bytes for \(what)"
        case let .invalidArguments(primitive, reason):
            return "\(primitive): \(reason)"
        case let .unsupportedPrecision(precision, reason):
            return "precision \(precision) is not available: \(reason)"
        }
    }

    /// True for failures that may pass on a retry with less load (memory), false for arguments
    /// that will fail again (a server answers 503 for the first, 500 or 4xx for the second).
    public var isResourceExhaustion: Bool {
        switch self {
        case .outOfMemory: return true
        case let .oneDNN(_, status, _): return status == Int(dnnl_out_of_memory.rawValue)
        case .invalidArguments, .unsupportedPrecision: return false
        }
    }
}

/// Throws a `KernelError` naming `primitive` (the step and shapes) and oneDNN's status, unless it succeeded.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ primitive: @autoclosure () -> String) throws(KernelError) {
    if status != dnnl_success { throw dnnlError(status, primitive()) }
}

@inline(never)
func dnnlError(_ status: dnnl_status_t, _ primitive: String) -> KernelError {
    let reason = switch status {
    case dnnl_out_of_memory: "out of memory"
    case dnnl_invalid_arguments: "invalid arguments"
    case dnnl_unimplemented: "no implementation for this configuration"
    case dnnl_iterator_ends: "iterator ends"
    case dnnl_runtime_error: "runtime error"
    case dnnl_not_required: "not required"
    default: "status \(status.rawValue)"
    }
    return .oneDNN(primitive: primitive, status: Int(status.rawValue), reason: reason)
}
