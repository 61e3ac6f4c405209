import GraftKernels

/// Inference-only fused ops: each is one oneDNN primitive (or two) where the composite of public ops
/// would make 3-5 passes over memory. They record nothing on the tape, so they refuse inputs that need
/// a gradient; modules call them only on their no-grad, `training: false` path and keep the composite
/// path, which these must equal, for training.
extension Tensor {
    /// act(x W^T + bias) (+ residual): `nn.Linear`, its activation and a residual add in one matmul.
    /// x [..., in], weight [out, in], bias [out], residual x-shaped but with `out` features. The weight
    /// is reordered once into oneDNN's preferred layout and cached by storage (until it changes), so pass
    /// long-lived weights (parameters), not a tensor rebuilt on every call. `inputScales` ([in], optional) multiply
    /// x's features first: `(x diag(inputScales)) W^T`; under int8 in the pass that quantizes x (the int8 smoothing's
    /// `x / s`, docs/PRECISION.md "int8 linears"), elsewhere as a product before the matmul.
    public func fusedLinear(weight: Tensor, bias: Tensor?, activation: Activation? = nil,
                            adding residual: Tensor? = nil, inputScales: Tensor? = nil) throws -> Tensor {
        try Tensor.requireNoGrad("fusedLinear", [self, weight, bias, residual, inputScales])
        guard weight.rank == 2, rank >= 2, shape.last == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: "fusedLinear", lhs: shape, rhs: weight.shape)
        }
        let (rows, k, n) = (count / weight.shape[1], weight.shape[1], weight.shape[0])
        if let bias, bias.shape != [n] { throw TensorError.shapeMismatch(op: "fusedLinear (bias)", lhs: [n], rhs: bias.shape) }
        try Tensor.requireInputScales(inputScales, features: k, op: "fusedLinear")
        if let inputScales, ComputePrecision.current != .int8 {
            return try (self * inputScales).fusedLinear(weight: weight, bias: bias, activation: activation, adding: residual)
        }
        let out = try Tensor.output(outputShape(features: n, residual: residual, op: "fusedLinear"), holding: residual)
        if ComputePrecision.current == .int8 {
            // Dynamic quantization (docs/PRECISION.md, "int8 linears"): no calibration needed.
            try Kernels.linearInt8(a: pointer, inputScales: inputScales.map { UnsafePointer($0.pointer) }, rows: rows, inputs: k,
                                   weight: weight.pointer, outputs: n,
                                   weightKey: WeightKey(id: weight.storage.id, version: weight.storage.version),
                                   bias: bias.map { UnsafePointer($0.pointer) }, c: out.pointer,
                                   activation: activation, accumulate: residual != nil)
            return out
        }
        try Kernels.matmul(a: pointer, .contiguous([rows, k]),
                       b: weight.pointer, MatrixLayout(dims: [k, n], strides: [1, k]),
                       c: out.pointer, .contiguous([rows, n]), bias: bias.map { UnsafePointer($0.pointer) },
                       epilogue: MatmulEpilogue(activation: activation, accumulateScale: residual != nil ? 1 : 0),
                       weightKey: WeightKey(id: weight.storage.id, version: weight.storage.version),
                       precision: ComputePrecision.current)
        return out
    }

    /// `act(x W1^T + b1) W2^T + b2` (+ residual): a transformer's feed-forward pair, two `fusedLinear`s; under int8
    /// one `Kernels.feedForwardInt8`, whose hidden activations pass from one linear to the next as u8 codes.
    /// `inputScales` multiply x's features first, as in `fusedLinear`.
    public func fusedFeedForward(weight1: Tensor, bias1: Tensor?, activation: Activation?, weight2: Tensor, bias2: Tensor?,
                                 adding residual: Tensor? = nil, inputScales: Tensor? = nil) throws -> Tensor {
        try Tensor.requireNoGrad("fusedFeedForward", [self, weight1, bias1, weight2, bias2, residual, inputScales])
        guard weight1.rank == 2, weight2.rank == 2, rank >= 2, shape.last == weight1.shape[1], weight2.shape[1] == weight1.shape[0] else {
            throw TensorError.shapeMismatch(op: "fusedFeedForward", lhs: shape, rhs: weight1.shape + weight2.shape)
        }
        let (rows, k, hidden, n) = (count / weight1.shape[1], weight1.shape[1], weight1.shape[0], weight2.shape[0])
        if let bias1, bias1.shape != [hidden] { throw TensorError.shapeMismatch(op: "fusedFeedForward (bias 1)", lhs: [hidden], rhs: bias1.shape) }
        if let bias2, bias2.shape != [n] { throw TensorError.shapeMismatch(op: "fusedFeedForward (bias 2)", lhs: [n], rhs: bias2.shape) }
        let outShape = try outputShape(features: n, residual: residual, op: "fusedFeedForward")
        try Tensor.requireInputScales(inputScales, features: k, op: "fusedFeedForward")
        guard ComputePrecision.current == .int8 else {
            let inner = try fusedLinear(weight: weight1, bias: bias1, activation: activation, inputScales: inputScales)
            return try inner.fusedLinear(weight: weight2, bias: bias2, adding: residual)
        }
        let out = try Tensor.output(outShape, holding: residual)
        try Kernels.feedForwardInt8(a: pointer, inputScales: inputScales.map { UnsafePointer($0.pointer) }, rows: rows, inputs: k, hidden: hidden, outputs: n,
                                    weight1: weight1.pointer, weightKey1: WeightKey(id: weight1.storage.id, version: weight1.storage.version),
                                    bias1: bias1.map { UnsafePointer($0.pointer) }, activation: activation,
                                    weight2: weight2.pointer, weightKey2: WeightKey(id: weight2.storage.id, version: weight2.storage.version),
                                    bias2: bias2.map { UnsafePointer($0.pointer) }, c: out.pointer, accumulate: residual != nil)
        return out
    }

    /// The shape of a fused linear's result with `features` outputs per row (self's but for the last axis), which
    /// `residual` must have.
    private func outputShape(features: Int, residual: Tensor?, op: String) throws -> [Int] {
        let outShape = Array(shape.dropLast()) + [features]
        if let residual, residual.shape != outShape {
            throw TensorError.shapeMismatch(op: "\(op) (residual)", lhs: outShape, rhs: residual.shape)
        }
        return outShape
    }

    /// `inputScales`, if any, must be one scale per input feature.
    private static func requireInputScales(_ inputScales: Tensor?, features: Int, op: String) throws {
        if let inputScales, inputScales.shape != [features] {
            throw TensorError.shapeMismatch(op: "\(op) (input scales)", lhs: [features], rhs: inputScales.shape)
        }
    }

    /// A new tensor of `shape` holding a copy of `residual` (for the matmul to add onto), or uninitialized.
    private static func output(_ shape: [Int], holding residual: Tensor?) throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape)
        if let residual { out.pointer.update(from: residual.pointer, count: out.count) }
        return out
    }

    /// Multi-head self-attention over a packed projection: `qkv` [B, L, 3 * H] holds Q, K and V side by
    /// side (heads of width H / heads each, as BERT's query/key/value linears produce them); `mask` is
    /// additive [B, 1, 1, L] or nil. Returns softmax(Q K^T / sqrt(d) + mask) V as [B, L, H], heads merged.
    /// `keyCounts` (optional, one per sequence) says the mask is padding at the end only: sequence i's first
    /// keyCounts[i] tokens are real. With `Kernels.fusesAttention` each sequence then attends to those keys alone
    /// (no mask to add, no padding keys computed); without it the mask does the same.
    /// The products read and write the heads in place through strides: no split or merge copies.
    public static func packedSelfAttention(_ qkv: Tensor, heads: Int, mask: Tensor?, keyCounts: [Int]? = nil) throws -> Tensor {
        try packedSelfAttention(.packed(qkv), heads: heads, mask: mask, keyCounts: keyCounts)
    }

    /// The same over Q, K and V packed or from three linears ([B, L, H] each).
    public static func packedSelfAttention(_ projections: AttentionProjections, heads: Int, mask: Tensor?,
                                           keyCounts: [Int]? = nil) throws -> Tensor {
        try requireNoGrad("packedSelfAttention", projections.tensors + [mask])
        let p = try projections.layout(rank: 3, heads: heads, op: "packedSelfAttention")
        let (b, l, hidden) = (p.leading[0], p.leading[1], p.hidden)
        let d = hidden / heads
        if let mask, mask.shape != [b, 1, 1, l] {
            throw TensorError.shapeMismatch(op: "packedSelfAttention (mask)", lhs: [b, 1, 1, l], rhs: mask.shape)
        }
        if let keyCounts, keyCounts.count != b || keyCounts.contains(where: { $0 < 1 || $0 > l }) {
            throw TensorError.invalidArgument(op: "packedSelfAttention", reason: "key counts \(keyCounts) for \(b) sequences of \(l) tokens")
        }
        let row = p.rowStride   // stride between tokens
        if Kernels.fusesAttention {
            let out = try Tensor(uninitializedShape: [b, l, hidden])
            let sequences = (0..<b).map { AttentionSequence(offset: $0 * l, queries: l, keys: keyCounts?[$0] ?? l) }
            try withExtendedLifetime(projections.tensors) {
                try Kernels.attention(query: p.q, key: p.k, value: p.v, rowStride: row, heads: heads, headDim: d,
                                      scale: 1 / Float(d).squareRoot(), sequences: sequences,
                                      keyMask: keyCounts == nil ? mask.map { UnsafePointer($0.pointer) } : nil,
                                      maskStride: l, output: out.pointer, outputStride: hidden)
            }
            return out
        }
        let q = MatrixLayout(dims: [b, heads, l, d], strides: [l * row, d, row, 1])
        let kT = MatrixLayout(dims: [b, heads, d, l], strides: [l * row, d, 1, row])
        let scores = try Tensor(uninitializedShape: [b, heads, l, l])
        let out = try Tensor(uninitializedShape: [b, l, hidden])
        try withExtendedLifetime(projections.tensors) {
            try Kernels.matmul(a: p.q, q, b: p.k, kT, c: scores.pointer, .contiguous([b, heads, l, l]),
                               addend: mask.map { UnsafePointer($0.pointer) },
                               epilogue: MatmulEpilogue(scale: 1 / Float(d).squareRoot(), addendDims: mask == nil ? nil : [b, 1, 1, l]),
                               precision: ComputePrecision.unquantized)
            try Kernels.softmaxForward(rows: b * heads * l, cols: l, src: scores.pointer, dst: scores.pointer)
            try Kernels.matmul(a: scores.pointer, .contiguous([b, heads, l, l]), b: p.v, q,
                               c: out.pointer, MatrixLayout(dims: [b, heads, l, d], strides: [l * hidden, d, hidden, 1]),
                               precision: ComputePrecision.unquantized)
        }
        return out
    }

    /// The same attention over token rows packed without padding: `qkv` [T, 3 * H], each sequence a run of its rows
    /// (`AttentionSequence`: offset, queries = keys = its length). Returns [T, H]; rows no sequence covers are zeros.
    /// Always on Graft's kernel (`Kernels.attention`): oneDNN's batched products need equal lengths.
    public static func packedSelfAttention(_ qkv: Tensor, heads: Int, sequences: [AttentionSequence]) throws -> Tensor {
        try packedSelfAttention(.packed(qkv), heads: heads, sequences: sequences)
    }

    /// The same over Q, K and V packed or from three linears ([T, H] each).
    public static func packedSelfAttention(_ projections: AttentionProjections, heads: Int, sequences: [AttentionSequence]) throws -> Tensor {
        try requireNoGrad("packedSelfAttention", projections.tensors)
        let p = try projections.layout(rank: 2, heads: heads, op: "packedSelfAttention")
        let (rows, hidden) = (p.leading[0], p.hidden)
        if let bad = sequences.first(where: { $0.offset < 0 || $0.queries < 0 || $0.keys > $0.queries || $0.offset + $0.queries > rows }) {
            throw TensorError.invalidArgument(op: "packedSelfAttention", reason: "\(bad) does not lie in \(rows) rows")
        }
        let out = Tensor.zeros([rows, hidden])
        try withExtendedLifetime(projections.tensors) {
            try Kernels.attention(query: p.q, key: p.k, value: p.v, rowStride: p.rowStride, heads: heads, headDim: hidden / heads,
                                  scale: 1 / Float(hidden / heads).squareRoot(), sequences: sequences, output: out.pointer,
                                  outputStride: hidden)
        }
        return out
    }

    private static func requireNoGrad(_ op: String, _ inputs: [Tensor?]) throws {
        guard !GradMode.isEnabled || !inputs.contains(where: { $0?.needsGrad == true }) else {
            throw TensorError.invalidArgument(op: op, reason: "inference only: an input needs a gradient (use withNoGrad)")
        }
    }
}
