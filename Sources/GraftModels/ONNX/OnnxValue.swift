import GraftTensor
import GraftWeights

/// Row-major values with a shape: the form shape arithmetic (int64) and the rarer data-movement
/// operators (Gather, Slice, Pad, Tile...) work on.
struct Dense<T> {
    var shape: [Int]
    var values: [T]

    var count: Int { values.count }

    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// out[i] = values[source(i)], where `source` maps an output multi-index to an input offset.
    static func build(_ shape: [Int], _ source: ([Int]) -> T) -> Dense<T> {
        let n = shape.reduce(1, *)
        var out: [T] = []
        out.reserveCapacity(n)
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<n {
            out.append(source(index))
            var d = shape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
        }
        return Dense(shape: shape, values: out)
    }

    func transposed(_ perm: [Int]) -> Dense<T> {
        let st = Self.strides(shape)
        return Self.build(perm.map { shape[$0] }) { idx in
            var o = 0
            for (i, p) in perm.enumerated() { o += idx[i] * st[p] }
            return values[o]
        }
    }

    /// Numpy broadcasting to `target` (which must be broadcast-compatible).
    func expanded(to target: [Int]) -> Dense<T> {
        if target == shape { return self }
        let pad = target.count - shape.count
        let st = Self.strides(shape)
        return Self.build(target) { idx in
            var o = 0
            for (i, d) in shape.enumerated() where d != 1 { o += idx[i + pad] * st[i] }
            return values[o]
        }
    }

    static func concat(_ parts: [Dense<T>], axis: Int) -> Dense<T> {
        var shape = parts[0].shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var out: [T] = []
        out.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for p in parts {
                let row = p.shape[axis] * inner
                out.append(contentsOf: p.values[(o * row)..<((o + 1) * row)])
            }
        }
        return Dense(shape: shape, values: out)
    }
}

/// A value flowing through the graph. Float activations may be stored channels-last (NHWC) while
/// their ONNX (logical) shape is NCHW: convolutions, pools and the pointwise ops between them then
/// run without transposes; any other consumer gets the NCHW form.
enum OnnxValue {
    case float(Tensor, channelsLast: Bool)
    case int(Dense<Int64>)

    static func nchw(_ t: Tensor) -> OnnxValue { .float(t, channelsLast: false) }

    init(_ data: OnnxTensorData) throws {
        switch data.values {
        case let .float(v): self = .float(try Tensor(shape: data.shape, values: v), channelsLast: false)
        case let .int(v): self = .int(Dense(shape: data.shape, values: v))
        }
    }

    /// The ONNX shape (NCHW order for a channels-last activation).
    var shape: [Int] {
        switch self {
        case let .float(t, cl): cl ? [t.shape[0], t.shape[3], t.shape[1], t.shape[2]] : t.shape
        case let .int(d): d.shape
        }
    }

    var isInt: Bool { if case .int = self { return true }; return false }

    /// The values in ONNX layout as a tensor (ints converted to float).
    func nchwTensor() throws -> Tensor {
        switch self {
        case let .float(t, cl):
            guard cl else { return t }
            // On the tape (a fine-tuned suffix, `OnnxFineTuneModel`) the layout change must carry gradients back.
            return GradMode.isEnabled && t.needsGrad ? try t.permuted([0, 3, 1, 2]) : try ChannelsLastCopy.nchw(t)
        case let .int(d): return try Tensor(shape: d.shape, values: d.values.map { Float($0) })
        }
    }

    /// A rank-4 value as an NHWC tensor.
    func nhwcTensor() throws -> Tensor {
        if case let .float(t, true) = self { return t }
        let t = try nchwTensor()
        guard t.rank == 4 else { throw TensorError.invalidShape(op: "nhwc", shape: t.shape, reason: "expects rank 4") }
        return GradMode.isEnabled && t.needsGrad ? try t.permuted([0, 2, 3, 1]) : try ChannelsLastCopy.nhwc(t)
    }

    func floats() throws -> Dense<Float> {
        switch self {
        case .float: let t = try nchwTensor(); return Dense(shape: t.shape, values: t.values)
        case let .int(d): return Dense(shape: d.shape, values: d.values.map { Float($0) })
        }
    }

    func ints() throws -> Dense<Int64> {
        switch self {
        case let .int(d): return d
        case .float:
            let f = try floats()
            return Dense(shape: f.shape, values: f.values.map { $0.isFinite ? Int64($0) : 0 })
        }
    }

    /// The same kind of value with other contents (data-movement ops keep ints as ints).
    func mapDense(_ f: (Dense<Float>) throws -> Dense<Float>, ints g: (Dense<Int64>) throws -> Dense<Int64>) throws -> OnnxValue {
        switch self {
        case let .int(d): return .int(try g(d))
        case .float: let r = try f(try floats()); return .nchw(try Tensor(shape: r.shape, values: r.values))
        }
    }

    var data: OnnxTensorData {
        get throws {
            switch self {
            case let .int(d): return OnnxTensorData(name: "", shape: d.shape, values: .int(d.values), dataType: 7)
            case .float: let t = try nchwTensor(); return OnnxTensorData(name: "", shape: t.shape, values: .float(t.values), dataType: 1)
            }
        }
    }
}
