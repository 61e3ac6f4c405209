import CDNNL

/// oneDNN calls only fail here on a configuration the caller should have
/// rejected (shapes are validated by the tensor layer), so a failure is a
/// programming error: stop with the call and the shapes involved.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success { dnnlFailure(status, what()) }
}

@inline(never)
func dnnlFailure(_ status: dnnl_status_t, _ what: String) -> Never {
    let reason: String
    switch status {
    case dnnl_out_of_memory: reason = "out of memory"
    case dnnl_invalid_arguments: reason = "invalid arguments"
    case dnnl_unimplemented: reason = "no implementation for this configuration"
    case dnnl_iterator_ends: reason = "iterator ends"
    case dnnl_runtime_error: reason = "runtime error"
    case dnnl_not_required: reason = "not required"
    default: reason = "status \(status.rawValue)"
    }
    fatalError("GraftKernels: oneDNN \(what): \(reason)")
}
