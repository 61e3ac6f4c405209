import CGraftKernels

extension Kernels {
    /// A transformer's feed-forward pair in int8: `c = act(a W1^T + b1) W2^T + b2` (with `accumulate`: `+ c`, a
    /// residual already in c), a `[rows, inputs]`, W1 `[hidden, inputs]`, W2 `[outputs, hidden]`, each linear as
    /// `linearInt8` computes it. The hidden activations go from the first linear to the second as u8 codes: without
    /// brgemm (AVX2) Graft's epilogue quantizes each row as it finishes it, so the fp32 `[rows, hidden]` tensor is
    /// never written out and read back (MiniLM: 4,096 x 1,536 at 128 tokens). `inputScales` as in `linearInt8`.
    public static func feedForwardInt8(a: UnsafePointer<Float>, inputScales: UnsafePointer<Float>? = nil, rows: Int, inputs: Int, hidden: Int, outputs: Int,
                                       weight1: UnsafePointer<Float>, weightKey1: WeightKey, bias1: UnsafePointer<Float>?,
                                       activation: Activation?, weight2: UnsafePointer<Float>, weightKey2: WeightKey,
                                       bias2: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                                       scaling: Int8LinearScaling = .preferred) throws {
        guard rows > 0, outputs > 0 else { return }
        try requireInt8Linear(inputs: inputs)
        try requireInt8Linear(inputs: hidden)
        try ExecutionContext.with { context in
            let input = try Int8RowCodes.quantizing(a, columnScales: inputScales, rows: rows, inputs: inputs, slot: .int8A,
                                                    context: context)
            guard let middle = try linearInt8(input, rows: rows, inputs: inputs, weight: weight1, outputs: hidden, weightKey: weightKey1,
                                              bias: bias1, activation: activation, output: .codes(.int8B), scaling: scaling,
                                              context: context) else {
                throw KernelError.invalidArguments(primitive: "int8 feed-forward", reason: "the first linear returned no codes")
            }
            _ = try linearInt8(middle, rows: rows, inputs: hidden, weight: weight2, outputs: outputs, weightKey: weightKey2, bias: bias2,
                               activation: nil, output: .float(c, accumulate: accumulate), scaling: scaling, context: context)
        }
    }
}
