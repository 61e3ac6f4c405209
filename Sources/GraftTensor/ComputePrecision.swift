import Foundation
import GraftKernels

/// The precision the convolutions and matmuls of inference compute in (docs/PRECISION.md). Task-local,
/// like `GradMode`: `withPrecision(.bf16) { }` sets it for everything the body runs. An op that records
/// onto the tape always computes in fp32, so training and gradients are unchanged by it.
public enum ComputePrecision {
    @TaskLocal public static var current: Precision = .fp32

    /// What an op computes in: fp32 while it records a tape, else the current precision.
    static func forOp(recording: Bool) -> Precision { recording ? .fp32 : current }

    /// What an int8 run computes its unquantized products in: attention's two (activations times activations,
    /// nothing to quantize once) and any layer a model keeps out of int8. bf16 where the CPU has it, else fp32
    /// (docs/PRECISION.md, "int8 linears"). Other precisions: the current one.
    public static var unquantized: Precision {
        guard current == .int8 else { return current }
        if let forced = unquantizedOverride { return forced }
        return Precision.bf16.isSupported ? .bf16 : .fp32
    }

    /// GRAFT_INT8_UNQUANTIZED=fp32|bf16 (measurement only; bf16 where unsupported falls back to fp32).
    private static let unquantizedOverride: Precision? = {
        guard let raw = ProcessInfo.processInfo.environment["GRAFT_INT8_UNQUANTIZED"], let p = Precision(rawValue: raw), p != .int8 else { return nil }
        return p == .bf16 && !Precision.bf16.isSupported ? .fp32 : p
    }()
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
