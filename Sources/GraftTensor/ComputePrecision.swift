import GraftKernels

/// The precision the convolutions and matmuls of inference compute in (docs/PRECISION.md). Task-local,
/// like `GradMode`: `withPrecision(.bf16) { }` sets it for everything the body runs. An op that records
/// onto the tape always computes in fp32, so training and gradients are unchanged by it.
public enum ComputePrecision {
    @TaskLocal public static var current: Precision = .fp32

    /// What an op computes in: fp32 while it records a tape, else the current precision.
    static func forOp(recording: Bool) -> Precision { recording ? .fp32 : current }
}

/// Runs `body` with its convolutions and matmuls in `precision`; throws `KernelError.unsupportedPrecision`
/// first when this CPU cannot (bf16 without AVX-512 bf16, int8 without a quantized model).
public func withPrecision<T>(_ precision: Precision, _ body: () throws -> T) throws -> T {
    try precision.requireSupport()
    return try ComputePrecision.$current.withValue(precision) { try body() }
}

public func withPrecision<T>(_ precision: Precision, _ body: () async throws -> T) async throws -> T {
    try precision.requireSupport()
    return try await ComputePrecision.$current.withValue(precision) { try await body() }
}
