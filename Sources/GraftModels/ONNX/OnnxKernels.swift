import Foundation
import GraftTensor
import GraftWeights

/// Runs one ONNX node on Graft tensors. Heavy operators (Conv, pools, BatchNormalization, Gemm,
/// MatMul, Softmax, LayerNormalization, activations, broadcasting arithmetic) go to GraftTensor's
/// oneDNN-backed ops; shape arithmetic and data movement run on `Dense` arrays.
struct OnnxKernels {
    let opset: Int
    let file: String

    struct Failure: Error { let reason: String; let unsupported: Bool }
    static func fail(_ reason: String) -> Failure { Failure(reason: reason, unsupported: false) }
    static func unsupported(_ what: String) -> Failure { Failure(reason: what, unsupported: true) }

    func run(_ n: OnnxGraph.Node, _ inputs: [OnnxValue?]) throws -> [OnnxValue] {
        func x(_ i: Int) throws -> OnnxValue {
            guard i < inputs.count, let v = inputs[i] else { throw Self.fail("input \(i) is missing") }
            return v
        }
        func opt(_ i: Int) -> OnnxValue? { i < inputs.count ? inputs[i] : nil }
        switch n.opType {
        case "Identity", "Dropout": return [try x(0)]
        case "Constant": return [try constant(n)]
        case "Conv": return [try conv(n, try x(0), try x(1), opt(2), fused: nil)]
        case "ConvTranspose": return [try convTranspose(n, try x(0), try x(1), opt(2))]
        case "BatchNormalization":
            return [try batchNorm(try x(0), try x(1), try x(2), try x(3), try x(4), epsilon: n.float("epsilon") ?? 1e-5)]
        case "InstanceNormalization": return [try instanceNorm(try x(0), try x(1), try x(2), epsilon: n.float("epsilon") ?? 1e-5)]
        case "LayerNormalization": return [try layerNorm(n, try x(0), try x(1), opt(2))]
        case "LRN": return [try lrn(n, try x(0))]
        case "MaxPool", "AveragePool": return [try pool(n, try x(0))]
        case "GlobalAveragePool", "GlobalMaxPool": return [try globalPool(max: n.opType == "GlobalMaxPool", try x(0))]
        case "Gemm": return [try gemm(n, try x(0), try x(1), opt(2))]
        case "MatMul": return [try matmul(try x(0), try x(1))]
        case "Add", "Sub", "Mul", "Div", "Pow": return [try binary(n.opType, try x(0), try x(1))]
        case "PRelu":
            // Old exporters give a per-channel slope as [C] (opset 6's rule): as [C, 1, ...] it broadcasts.
            var slope = try x(1)
            let xs = try x(0).shape
            if slope.shape.count == 1, xs.count > 2, slope.shape[0] == xs[1], slope.shape[0] != xs.last {
                slope = try reshaped(slope, [xs[1]] + [Int](repeating: 1, count: xs.count - 2))
            }
            return [try binary("PRelu", try x(0), slope)]
        case "Sum", "Max", "Min", "Mean":
            var acc = try x(0)
            let op = n.opType == "Mean" ? "Sum" : n.opType
            for i in 1..<inputs.count { acc = try binary(op == "Sum" ? "Add" : op, acc, try x(i)) }
            if n.opType == "Mean" { acc = try unary(acc) { $0 / Float(inputs.count) } }
            return [acc]
        case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual": return [try compare(n.opType, try x(0), try x(1))]
        case "Not": let d = try x(0).ints(); return [.int(Dense(shape: d.shape, values: d.values.map { $0 == 0 ? 1 : 0 }))]
        case "And", "Or", "Xor": return [try logical(n.opType, try x(0), try x(1))]
        case "Where": return [try select(try x(0), try x(1), try x(2))]
        case "Mod":
            let (a, b) = (try x(0), try x(1))
            if a.isInt && b.isInt {
                let fmod = (n.int("fmod") ?? 0) != 0
                let out = try broadcastShape(a.shape, b.shape)
                let (ea, eb) = (try a.ints().expanded(to: out), try b.ints().expanded(to: out))
                return [.int(Dense(shape: out, values: try zip(ea.values, eb.values).map { p, q in
                    guard q != 0 else { throw Self.fail("modulo by zero") }
                    let r = p % q
                    return fmod || r == 0 || (r < 0) == (q < 0) ? r : r + q
                }))]
            }
            return [try binary("Mod", a, b)]
        case "Relu": return [try activation(try x(0), .relu)]
        case "Sigmoid": return [try activation(try x(0), .sigmoid)]
        case "Tanh": return [try activation(try x(0), .tanh)]
        case "HardSwish": return [try activation(try x(0), .hardswish)]
        case "Gelu":
            if n.string("approximate") == "tanh" {
                return [try unary(try x(0)) { v in 0.5 * v * (1 + Foundation.tanh(0.7978845608 * (v + 0.044715 * v * v * v))) }]
            }
            return [try activation(try x(0), .gelu)]
        case "LeakyRelu":
            let a = n.float("alpha") ?? 0.01
            return [try unary(try x(0)) { $0 >= 0 ? $0 : a * $0 }]
        case "Elu":
            let a = n.float("alpha") ?? 1
            return [try unary(try x(0)) { $0 >= 0 ? $0 : a * (Foundation.exp($0) - 1) }]
        case "Selu":
            let a = n.float("alpha") ?? 1.67326319217681884765625, g = n.float("gamma") ?? 1.05070102214813232421875
            return [try unary(try x(0)) { $0 > 0 ? g * $0 : g * (a * Foundation.exp($0) - a) }]
        case "HardSigmoid":
            let a = n.float("alpha") ?? 0.2, b = n.float("beta") ?? 0.5
            return [try unary(try x(0)) { Swift.max(0, Swift.min(1, a * $0 + b)) }]
        case "Softplus": return [try unary(try x(0)) { $0 > 20 ? $0 : Foundation.log1p(Foundation.exp($0)) }]
        case "Softsign": return [try unary(try x(0)) { $0 / (1 + Swift.abs($0)) }]
        case "Shrink":
            let l = n.float("lambd") ?? 0.5, b = n.float("bias") ?? 0
            return [try unary(try x(0)) { $0 < -l ? $0 + b : ($0 > l ? $0 - b : 0) }]
        case "Clip":
            var lo = n.float("min") ?? -Float.greatestFiniteMagnitude, hi = n.float("max") ?? Float.greatestFiniteMagnitude
            if let v = opt(1) { lo = try v.floats().values.first ?? lo }
            if let v = opt(2) { hi = try v.floats().values.first ?? hi }
            if lo == 0 && hi == 6 { return [try activation(try x(0), .relu6)] }
            if lo == 0 && hi == .greatestFiniteMagnitude { return [try activation(try x(0), .relu)] }
            return [try unary(try x(0)) { Swift.min(Swift.max($0, lo), hi) }]
        case "Sqrt": return [try unary(try x(0)) { $0.squareRoot() }]
        case "Exp": return [try unary(try x(0)) { Foundation.exp($0) }]
        case "Log": return [try unary(try x(0)) { Foundation.log($0) }]
        case "Erf": return [try unary(try x(0)) { Foundation.erf($0) }]
        case "Neg": return [try unaryKeepingInts(try x(0), { -$0 }, { -$0 })]
        case "Abs": return [try unaryKeepingInts(try x(0), { Swift.abs($0) }, { Swift.abs($0) })]
        case "Sign": return [try unaryKeepingInts(try x(0), { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, { $0.signum() })]
        case "Reciprocal": return [try unary(try x(0)) { 1 / $0 }]
        case "Floor": return [try unary(try x(0)) { $0.rounded(.down) }]
        case "Ceil": return [try unary(try x(0)) { $0.rounded(.up) }]
        case "Softmax", "LogSoftmax": return [try softmax(n, try x(0), log: n.opType == "LogSoftmax")]
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare": return [try reduce(n, try x(0), axesInput: opt(1))]
        case "Reshape": return [try reshape(n, try x(0), try x(1))]
        case "Flatten":
            let v = try x(0), s = v.shape
            let a = try axis(n.int("axis") ?? 1, rank: s.count, inclusiveEnd: true)
            return [try reshaped(v, [s[..<a].reduce(1, *), s[a...].reduce(1, *)])]
        case "Squeeze":
            let v = try x(0), s = v.shape
            let axes = try (opt(1).map { try $0.ints().values.map(Int.init) } ?? n.ints("axes")).map { try $0.map { try axis($0, rank: s.count) } }
            let keep = s.enumerated().filter { e in axes.map { !$0.contains(e.offset) } ?? (e.element != 1) }.map(\.element)
            return [try reshaped(v, keep)]
        case "Unsqueeze":
            let v = try x(0)
            guard let raw = try opt(1).map({ try $0.ints().values.map(Int.init) }) ?? n.ints("axes") else { throw Self.fail("no axes") }
            let rank = v.shape.count + raw.count
            let axes = Set(try raw.map { try axis($0, rank: rank) })
            var s: [Int] = [], it = v.shape.makeIterator()
            for i in 0..<rank { s.append(axes.contains(i) ? 1 : it.next() ?? 1) }
            return [try reshaped(v, s)]
        case "Transpose": return [try transpose(try x(0), perm: n.ints("perm"))]
        case "Concat": return [try concat(inputs.compactMap { $0 }, axis: n.int("axis") ?? 0)]
        case "Split": return try split(n, try x(0), opt(1))
        case "Slice": return [try slice(n, inputs)]
        case "Gather": return [try gather(try x(0), try x(1), axis: n.int("axis") ?? 0)]
        case "Shape":
            let s = try x(0).shape.map(Int64.init)
            let lo = try clampAxis(n.int("start") ?? 0, s.count), hi = try clampAxis(n.int("end") ?? s.count, s.count)
            return [.int(Dense(shape: [Swift.max(hi - lo, 0)], values: lo < hi ? Array(s[lo..<hi]) : []))]
        case "Size": return [.int(Dense(shape: [], values: [Int64(try x(0).shape.reduce(1, *))]))]
        case "ConstantOfShape":
            let shape = try x(0).ints().values.map(Int.init)
            guard let count = OnnxTensorData.elementCount(shape) else { throw Self.fail("shape \(shape) is negative or too large") }
            let fill = n.tensor("value") ?? OnnxTensorData(name: "", shape: [1], values: .float([0]), dataType: 1)
            switch fill.values {
            case let .float(v): return [.nchw(Tensor(repeating: v.first ?? 0, shape: shape))]
            case let .int(v): return [.int(Dense(shape: shape, values: [Int64](repeating: v.first ?? 0, count: count)))]
            }
        case "Expand":
            let v = try x(0), target = try x(1).ints().values.map(Int.init)
            let out = try broadcastShape(v.shape, target)
            guard OnnxTensorData.elementCount(out) != nil else { throw Self.fail("shape \(out) too large") }
            return [try v.mapDense({ $0.expanded(to: out) }, ints: { $0.expanded(to: out) })]
        case "Tile":
            let v = try x(0), reps = try x(1).ints().values.map(Int.init)
            guard reps.count == v.shape.count, reps.allSatisfy({ $0 >= 0 }) else { throw Self.fail("repeats \(reps) for shape \(v.shape)") }
            let out = zip(v.shape, reps).map { $0 * $1 }
            guard OnnxTensorData.elementCount(out) != nil else { throw Self.fail("shape \(out) too large") }
            func tile<T>(_ d: Dense<T>) -> Dense<T> {
                let st = Dense<T>.strides(d.shape)
                return Dense.build(out) { idx in d.values[zip(idx.indices, idx).reduce(0) { $0 + ($1.1 % d.shape[$1.0]) * st[$1.0] }] }
            }
            return [try v.mapDense(tile, ints: tile)]
        case "Pad": return [try pad(n, inputs)]
        case "Resize", "Upsample": return [try resize(n, inputs)]
        case "Cast":
            let v = try x(0)
            switch n.int("to") ?? 1 {
            case 1, 10, 11, 16: return [v.isInt ? .nchw(try v.nchwTensor()) : v]
            case 2, 3, 4, 5, 6, 7, 12, 13: return [.int(try v.ints())]
            case 9: let d = try v.floats(); return [.int(Dense(shape: d.shape, values: d.values.map { $0 != 0 ? 1 : 0 }))]
            case let t: throw Self.unsupported("Cast to data type \(t)")
            }
        case "Range":
            let (s, l, d) = (try x(0), try x(1), try x(2))
            if s.isInt && l.isInt && d.isInt {
                let (a, b, c) = (try s.ints().values[0], try l.ints().values[0], try d.ints().values[0])
                guard c != 0 else { throw Self.fail("delta 0") }
                let count = Swift.max(Int(((b - a) + c - c.signum()) / c), 0)
                guard count <= OnnxTensorData.maxElements else { throw Self.fail("too many values") }
                return [.int(Dense(shape: [count], values: (0..<count).map { a + Int64($0) * c }))]
            }
            let (a, b, c) = (try s.floats().values[0], try l.floats().values[0], try d.floats().values[0])
            let count = Swift.max(Int(((b - a) / c).rounded(.up)), 0)
            guard c != 0, count <= OnnxTensorData.maxElements else { throw Self.fail("bad range") }
            return [.nchw(try Tensor(shape: [count], values: (0..<count).map { a + Float($0) * c }))]
        default:
            throw Self.unsupported("operator \(n.opType)")
        }
    }

    // MARK: - helpers

    func axis(_ a: Int, rank: Int, inclusiveEnd: Bool = false) throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0, r < rank + (inclusiveEnd ? 1 : 0) else { throw Self.fail("axis \(a) out of range for rank \(rank)") }
        return r
    }
    func clampAxis(_ a: Int, _ rank: Int) throws -> Int { Swift.min(Swift.max(a < 0 ? a + rank : a, 0), rank) }

    func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let n = Swift.max(a.count, b.count)
        return try (0..<n).map { i in
            let da = i < n - a.count ? 1 : a[i - (n - a.count)], db = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard da == db || da == 1 || db == 1 else { throw Self.fail("shapes \(a) and \(b) do not broadcast") }
            return da == 1 ? db : da
        }
    }

    func constant(_ n: OnnxGraph.Node) throws -> OnnxValue {
        if let t = n.tensor("value") { return try OnnxValue(t) }
        if let f = n.float("value_float"), case .float? = n.attributes["value_float"] { return .nchw(Tensor.scalar(f)) }
        if let f = n.floats("value_floats") { return .nchw(try Tensor(shape: [f.count], values: f)) }
        if let i = n.int("value_int") { return .int(Dense(shape: [], values: [Int64(i)])) }
        if let i = n.ints("value_ints") { return .int(Dense(shape: [i.count], values: i.map(Int64.init))) }
        throw Self.unsupported("Constant without a value, value_float(s) or value_int(s) attribute")
    }

    func reshaped(_ v: OnnxValue, _ shape: [Int]) throws -> OnnxValue {
        switch v {
        case let .int(d):
            guard shape.reduce(1, *) == d.count else { throw Self.fail("cannot reshape \(d.shape) to \(shape)") }
            return .int(Dense(shape: shape, values: d.values))
        case .float: return .nchw(try v.nchwTensor().reshaped(shape))
        }
    }

    func reshape(_ n: OnnxGraph.Node, _ v: OnnxValue, _ s: OnnxValue) throws -> OnnxValue {
        var shape = try s.ints().values.map(Int.init)
        let allowZero = (n.int("allowzero") ?? 0) != 0
        for (i, d) in shape.enumerated() where d == 0 && !allowZero {
            guard i < v.shape.count else { throw Self.fail("0 at \(i) copies a dim that \(v.shape) lacks") }
            shape[i] = v.shape[i]
        }
        if let i = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            guard known > 0, v.shape.reduce(1, *) % known == 0 else { throw Self.fail("cannot infer -1 in \(shape) for \(v.shape)") }
            shape[i] = v.shape.reduce(1, *) / known
        }
        return try reshaped(v, shape)
    }

    func transpose(_ v: OnnxValue, perm: [Int]?) throws -> OnnxValue {
        let rank = v.shape.count
        let p = perm ?? Array((0..<rank).reversed())
        guard p.sorted() == Array(0..<rank) else { throw Self.fail("perm \(p) for rank \(rank)") }
        switch v {
        case let .int(d): return .int(d.transposed(p))
        case let .float(t, cl):
            // NCHW -> NHWC of a channels-last value is its storage as it is.
            if cl && p == [0, 2, 3, 1] { return .nchw(t) }
            return .nchw(try v.nchwTensor().permuted(p))
        }
    }

    func concat(_ parts: [OnnxValue], axis a: Int) throws -> OnnxValue {
        guard let first = parts.first else { throw Self.fail("no inputs") }
        let ax = try axis(a, rank: first.shape.count)
        if parts.allSatisfy(\.isInt) {
            return .int(Dense.concat(try parts.map { try $0.ints() }, axis: ax))
        }
        if ax == 1, parts.allSatisfy({ if case .float(_, true) = $0 { return true }; return false }) {
            return .float(try Tensor.concat(try parts.map { try $0.nhwcTensor() }, axis: 3), channelsLast: true)
        }
        let tensors = try parts.map { try $0.nchwTensor() }.filter { $0.count > 0 || parts.count == 1 }
        return .nchw(tensors.count == 1 ? tensors[0] : try Tensor.concat(tensors, axis: ax))
    }

    func split(_ n: OnnxGraph.Node, _ v: OnnxValue, _ sizes: OnnxValue?) throws -> [OnnxValue] {
        let s = v.shape
        let ax = try axis(n.int("axis") ?? 0, rank: s.count)
        var parts = try sizes.map { try $0.ints().values.map(Int.init) } ?? n.ints("split") ?? []
        if parts.isEmpty {
            let k = n.int("num_outputs") ?? n.outputs.count
            let chunk = (s[ax] + k - 1) / k
            parts = (0..<k).map { Swift.min(chunk, Swift.max(s[ax] - $0 * chunk, 0)) }
        }
        guard parts.reduce(0, +) == s[ax], parts.allSatisfy({ $0 >= 0 }) else { throw Self.fail("split \(parts) of \(s[ax])") }
        var start = 0
        return try parts.map { len in
            defer { start += len }
            return try sliceAxis(v, ax, start, len)
        }
    }

    func sliceAxis(_ v: OnnxValue, _ ax: Int, _ start: Int, _ len: Int) throws -> OnnxValue {
        func cut<T>(_ d: Dense<T>) -> Dense<T> {
            let st = Dense<T>.strides(d.shape)
            var out = d.shape; out[ax] = len
            return Dense.build(out) { idx in d.values[zip(idx, st).enumerated().reduce(0) { $0 + ($1.offset == ax ? $1.element.0 + start : $1.element.0) * $1.element.1 }] }
        }
        if case .float = v { return .nchw(try v.nchwTensor().slice(axis: ax, start..<(start + len))) }
        return .int(cut(try v.ints()))
    }

    func slice(_ n: OnnxGraph.Node, _ inputs: [OnnxValue?]) throws -> OnnxValue {
        guard let v = inputs.first ?? nil else { throw Self.fail("no data") }
        let s = v.shape
        func list(_ i: Int, _ attr: String) throws -> [Int]? {
            if opset >= 10 { return try (i < inputs.count ? inputs[i] : nil).map { try $0.ints().values.map { Int(clamping: $0) } } }
            return n.ints(attr)
        }
        guard let starts = try list(1, "starts"), let ends = try list(2, "ends") else { throw Self.fail("no starts/ends") }
        let axes = try (try list(3, "axes") ?? Array(0..<starts.count)).map { try axis($0, rank: s.count) }
        let steps = try list(4, "") ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else { throw Self.fail("starts/ends/axes/steps differ in length") }
        var lo = [Int](repeating: 0, count: s.count), step = [Int](repeating: 1, count: s.count), out = s
        for (k, a) in axes.enumerated() {
            let st = steps[k], dim = s[a]
            guard st != 0 else { throw Self.fail("step 0") }
            func norm(_ x: Int) -> Int { x < 0 ? x + dim : x }
            var b = norm(starts[k]), e = norm(ends[k])
            if st > 0 { b = Swift.min(Swift.max(b, 0), dim); e = Swift.min(Swift.max(e, 0), dim) }
            else { b = Swift.min(Swift.max(b, 0), dim - 1); e = Swift.min(Swift.max(e, -1), dim - 1) }
            lo[a] = b; step[a] = st
            out[a] = st > 0 ? Swift.max(0, (e - b + st - 1) / st) : Swift.max(0, (b - e - st - 1) / -st)
        }
        func cut<T>(_ d: Dense<T>) -> Dense<T> {
            let st = Dense<T>.strides(d.shape)
            return Dense.build(out) { idx in
                var o = 0
                for i in 0..<idx.count { o += (lo[i] + idx[i] * step[i]) * st[i] }
                return d.values[o]
            }
        }
        return try v.mapDense(cut, ints: cut)
    }

    func gather(_ v: OnnxValue, _ idx: OnnxValue, axis a: Int) throws -> OnnxValue {
        let s = v.shape
        let ax = try axis(a, rank: s.count)
        let indices = try idx.ints()
        let dim = s[ax]
        let ix = try indices.values.map { i -> Int in
            let r = Int(i) < 0 ? Int(i) + dim : Int(i)
            guard r >= 0, r < dim else { throw Self.fail("index \(i) out of range for dim \(dim)") }
            return r
        }
        let outer = s[..<ax].reduce(1, *), inner = s[(ax + 1)...].reduce(1, *)
        let outShape = Array(s[..<ax]) + indices.shape + Array(s[(ax + 1)...])
        func g<T>(_ d: Dense<T>) -> Dense<T> {
            var out: [T] = []
            out.reserveCapacity(outer * ix.count * inner)
            for o in 0..<outer { for i in ix { out.append(contentsOf: d.values[((o * dim + i) * inner)..<((o * dim + i + 1) * inner)]) } }
            return Dense(shape: outShape, values: out)
        }
        return try v.mapDense(g, ints: g)
    }

    func pad(_ n: OnnxGraph.Node, _ inputs: [OnnxValue?]) throws -> OnnxValue {
        guard let v = inputs.first ?? nil else { throw Self.fail("no data") }
        let s = v.shape, r = s.count
        var pads: [Int]
        var value: Float = n.float("value") ?? 0
        if opset >= 11 {
            guard inputs.count > 1, let p = inputs[1] else { throw Self.fail("no pads") }
            pads = try p.ints().values.map { Int(clamping: $0) }
            if inputs.count > 2, let c = inputs[2] { value = try c.floats().values.first ?? 0 }
            if inputs.count > 3, let a = inputs[3] {
                let axes = try a.ints().values.map { try axis(Int($0), rank: r) }
                var full = [Int](repeating: 0, count: 2 * r)
                for (k, ax) in axes.enumerated() { full[ax] = pads[k]; full[ax + r] = pads[k + axes.count] }
                pads = full
            }
        } else {
            pads = n.ints("pads") ?? n.ints("paddings") ?? []
        }
        guard pads.count == 2 * r else { throw Self.fail("pads \(pads) for rank \(r)") }
        let mode = n.string("mode") ?? "constant"
        let out = (0..<r).map { s[$0] + pads[$0] + pads[$0 + r] }
        guard out.allSatisfy({ $0 >= 0 }), OnnxTensorData.elementCount(out) != nil else { throw Self.fail("padded shape \(out)") }
        func padded<T>(_ d: Dense<T>, _ fill: T) throws -> Dense<T> {
            let st = Dense<T>.strides(d.shape)
            if mode == "reflect", (0..<r).contains(where: { (pads[$0] > 0 || pads[$0 + r] > 0) && (s[$0] < 2 || pads[$0] >= s[$0] || pads[$0 + r] >= s[$0]) }) {
                throw Self.fail("reflect padding wider than the input")
            }
            return Dense.build(out) { idx in
                var o = 0
                for i in 0..<r {
                    var c = idx[i] - pads[i]
                    if c < 0 || c >= s[i] {
                        switch mode {
                        case "edge": c = Swift.min(Swift.max(c, 0), s[i] - 1)
                        case "reflect": c = c < 0 ? -c : 2 * (s[i] - 1) - c
                        default: return fill
                        }
                    }
                    o += c * st[i]
                }
                return d.values[o]
            }
        }
        guard ["constant", "edge", "reflect"].contains(mode) else { throw Self.unsupported("Pad mode \(mode)") }
        if s.contains(0) && mode != "constant" { throw Self.fail("\(mode) padding of an empty tensor") }
        return try v.mapDense({ try padded($0, value) }, ints: { try padded($0, Int64(value)) })
    }

    // MARK: - elementwise

    /// Maps a float value elementwise, keeping its layout.
    func unary(_ v: OnnxValue, _ f: (Float) -> Float) throws -> OnnxValue {
        let (t, cl): (Tensor, Bool) = switch v { case let .float(t, cl): (t, cl); case .int: (try v.nchwTensor(), false) }
        let out = try Tensor(uninitializedShape: t.shape)
        let src = t.pointer, dst = out.pointer
        for i in 0..<t.count { dst[i] = f(src[i]) }
        return .float(out, channelsLast: cl)
    }

    func unaryKeepingInts(_ v: OnnxValue, _ f: (Float) -> Float, _ g: (Int64) -> Int64) throws -> OnnxValue {
        if case let .int(d) = v { return .int(Dense(shape: d.shape, values: d.values.map(g))) }
        return try unary(v, f)
    }

    func activation(_ v: OnnxValue, _ a: Activation) throws -> OnnxValue {
        guard case let .float(t, cl) = v else { return .nchw(try v.nchwTensor().activation(a)) }
        return .float(t.count == 0 ? t : try t.activation(a), channelsLast: cl)
    }

    /// Aligns two operands for a broadcasting op: both channels-last when one is (the other's ONNX
    /// shape padded to rank 4 and permuted to NHWC), else both NCHW.
    func aligned(_ a: OnnxValue, _ b: OnnxValue) throws -> (Tensor, Tensor, channelsLast: Bool) {
        func isCL(_ v: OnnxValue) -> Bool { if case .float(_, true) = v { return true }; return false }
        if (isCL(a) || isCL(b)) && a.shape.count <= 4 && b.shape.count <= 4 {
            func nhwc(_ v: OnnxValue) throws -> Tensor {
                if isCL(v) { return try v.nhwcTensor() }
                let t = try v.nchwTensor()
                let s4 = [Int](repeating: 1, count: 4 - t.rank) + t.shape
                let r = try t.reshaped(s4)
                // A per-channel [1, C, 1, 1] operand needs no data movement, only a new shape.
                if s4[0] == 1 && s4[2] == 1 && s4[3] == 1 { return try r.reshaped([1, 1, 1, s4[1]]) }
                return try r.permuted([0, 2, 3, 1])
            }
            return (try nhwc(a), try nhwc(b), true)
        }
        return (try a.nchwTensor(), try b.nchwTensor(), false)
    }

    func binary(_ op: String, _ a: OnnxValue, _ b: OnnxValue) throws -> OnnxValue {
        if case let .int(x) = a, case let .int(y) = b {
            let out = try broadcastShape(x.shape, y.shape)
            let (ex, ey) = (x.expanded(to: out), y.expanded(to: out))
            let f: (Int64, Int64) throws -> Int64 = switch op {
            case "Add": { $0 &+ $1 }
            case "Sub": { $0 &- $1 }
            case "Mul": { $0 &* $1 }
            case "Div": { guard $1 != 0 else { throw Self.fail("integer division by zero") }; return $0 / $1 }
            case "Max": { Swift.max($0, $1) }
            case "Min": { Swift.min($0, $1) }
            case "Pow": { Int64(Foundation.pow(Double($0), Double($1))) }
            default: { a, _ in a }
            }
            return .int(Dense(shape: out, values: try zip(ex.values, ey.values).map(f)))
        }
        let (x, y, cl) = try aligned(a, b)
        switch op {
        case "Add": return .float(try x + y, channelsLast: cl)
        case "Sub": return .float(try x - y, channelsLast: cl)
        case "Mul": return .float(try x * y, channelsLast: cl)
        case "Div": return .float(try x / y, channelsLast: cl)
        default: break
        }
        if op == "Pow", y.count == 1 {
            let p = y.pointer[0]
            if p == 2 { return .float(try x * x, channelsLast: cl) }
            if p == 0.5 { return try unary(.float(x, channelsLast: cl)) { $0.squareRoot() } }
        }
        let f: (Float, Float) -> Float = switch op {
        case "Pow": { Foundation.pow($0, $1) }
        case "Max": { Swift.max($0, $1) }
        case "Min": { Swift.min($0, $1) }
        case "PRelu": { $0 < 0 ? $0 * $1 : $0 }
        case "Mod": { Foundation.fmod($0, $1) }
        default: { a, _ in a }
        }
        let out = try broadcastShape(x.shape, y.shape)
        let dx = Dense(shape: x.shape, values: x.values).expanded(to: out), dy = Dense(shape: y.shape, values: y.values).expanded(to: out)
        return .float(try Tensor(shape: out, values: zip(dx.values, dy.values).map(f)), channelsLast: cl)
    }

    func compare(_ op: String, _ a: OnnxValue, _ b: OnnxValue) throws -> OnnxValue {
        let out = try broadcastShape(a.shape, b.shape)
        let (ea, eb) = (try a.floats().expanded(to: out), try b.floats().expanded(to: out))
        let f: (Float, Float) -> Bool = switch op {
        case "Equal": { $0 == $1 }
        case "Less": { $0 < $1 }
        case "Greater": { $0 > $1 }
        case "LessOrEqual": { $0 <= $1 }
        default: { $0 >= $1 }
        }
        if a.isInt && b.isInt {
            let (ia, ib) = (try a.ints().expanded(to: out), try b.ints().expanded(to: out))
            return .int(Dense(shape: out, values: zip(ia.values, ib.values).map { p, q in
                let r: Bool = switch op { case "Equal": p == q; case "Less": p < q; case "Greater": p > q; case "LessOrEqual": p <= q; default: p >= q }
                return r ? 1 : 0
            }))
        }
        return .int(Dense(shape: out, values: zip(ea.values, eb.values).map { f($0, $1) ? 1 : 0 }))
    }

    /// Booleans are ints (0 or 1), as the comparisons write them.
    func logical(_ op: String, _ a: OnnxValue, _ b: OnnxValue) throws -> OnnxValue {
        let out = try broadcastShape(a.shape, b.shape)
        let (ia, ib) = (try a.ints().expanded(to: out), try b.ints().expanded(to: out))
        return .int(Dense(shape: out, values: zip(ia.values, ib.values).map { p, q in
            let r: Bool = switch op { case "And": p != 0 && q != 0; case "Or": p != 0 || q != 0; default: (p != 0) != (q != 0) }
            return r ? 1 : 0
        }))
    }

    func select(_ c: OnnxValue, _ a: OnnxValue, _ b: OnnxValue) throws -> OnnxValue {
        let out = try broadcastShape(try broadcastShape(c.shape, a.shape), b.shape)
        let cond = try c.ints().expanded(to: out).values
        if a.isInt && b.isInt {
            let (ea, eb) = (try a.ints().expanded(to: out), try b.ints().expanded(to: out))
            return .int(Dense(shape: out, values: (0..<cond.count).map { cond[$0] != 0 ? ea.values[$0] : eb.values[$0] }))
        }
        let (ea, eb) = (try a.floats().expanded(to: out), try b.floats().expanded(to: out))
        return .nchw(try Tensor(shape: out, values: (0..<cond.count).map { cond[$0] != 0 ? ea.values[$0] : eb.values[$0] }))
    }

    // MARK: - normalization, softmax, reductions

    func batchNorm(_ x: OnnxValue, _ scale: OnnxValue, _ bias: OnnxValue, _ mean: OnnxValue, _ variance: OnnxValue, epsilon: Float) throws -> OnnxValue {
        let (g, b, m, v) = (try scale.nchwTensor(), try bias.nchwTensor(), try mean.nchwTensor(), try variance.nchwTensor())
        let s = x.shape
        guard s.count >= 2 else { throw Self.fail("input rank \(s.count)") }
        let c = s[1]
        guard [g, b, m, v].allSatisfy({ $0.count == c }) else { throw Self.fail("parameters do not have \(c) channels") }
        let (g1, b1, m1, v1) = (try g.reshaped([c]), try b.reshaped([c]), try m.reshaped([c]), try v.reshaped([c]))
        if s.count == 4 {
            return .float(try x.nhwcTensor().batchNormInference(scale: g1, shift: b1, mean: m1, variance: v1, epsilon: epsilon), channelsLast: true)
        }
        // y = x * a + (b - mean * a), a = gamma / sqrt(var + eps), per channel (axis 1).
        var a = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
        for i in 0..<c {
            a[i] = g1.pointer[i] / (v1.pointer[i] + epsilon).squareRoot()
            shift[i] = b1.pointer[i] - m1.pointer[i] * a[i]
        }
        let bshape = [1, c] + [Int](repeating: 1, count: s.count - 2)
        return .nchw(try x.nchwTensor() * Tensor(shape: bshape, values: a) + Tensor(shape: bshape, values: shift))
    }

    func instanceNorm(_ x: OnnxValue, _ scale: OnnxValue, _ bias: OnnxValue, epsilon: Float) throws -> OnnxValue {
        let t = try x.nchwTensor(), g = try scale.floats().values, b = try bias.floats().values
        guard t.rank >= 3, g.count == t.shape[1], b.count == t.shape[1] else { throw Self.fail("shapes \(t.shape), \(g.count)") }
        let (n, c) = (t.shape[0], t.shape[1]), inner = t.count / Swift.max(n * c, 1)
        let out = try Tensor(uninitializedShape: t.shape)
        for i in 0..<(n * c) {
            let src = t.pointer + i * inner, dst = out.pointer + i * inner
            var mean: Double = 0, sq: Double = 0
            for k in 0..<inner { mean += Double(src[k]) }
            mean /= Double(inner)
            for k in 0..<inner { let d = Double(src[k]) - mean; sq += d * d }
            let inv = 1 / (sq / Double(inner) + Double(epsilon)).squareRoot()
            let (gi, bi) = (Double(g[i % c]), Double(b[i % c]))
            for k in 0..<inner { dst[k] = Float((Double(src[k]) - mean) * inv * gi + bi) }
        }
        return .nchw(out)
    }

    func layerNorm(_ n: OnnxGraph.Node, _ x: OnnxValue, _ scale: OnnxValue, _ bias: OnnxValue?) throws -> OnnxValue {
        let t = try x.nchwTensor()
        let ax = try axis(n.int("axis") ?? -1, rank: t.rank)
        let cols = t.shape[ax...].reduce(1, *)
        let g = try scale.floats(), b = try bias?.floats()
        guard let cols2 = Optional(cols), g.count == cols2 else { throw Self.unsupported("LayerNormalization with a broadcast scale \(g.shape)") }
        let gamma = try Tensor(shape: [cols], values: g.values)
        let beta = try Tensor(shape: [cols], values: b.map { $0.count == cols ? $0.values : [Float](repeating: $0.values.first ?? 0, count: cols) } ?? [Float](repeating: 0, count: cols))
        let y = try t.reshaped([t.count / Swift.max(cols, 1), cols]).layerNorm(gamma: gamma, beta: beta, epsilon: n.float("epsilon") ?? 1e-5)
        return .nchw(try y.reshaped(t.shape))
    }

    func lrn(_ n: OnnxGraph.Node, _ x: OnnxValue) throws -> OnnxValue {
        guard let size = n.int("size"), size > 0 else { throw Self.fail("no size") }
        let alpha = n.float("alpha") ?? 1e-4, beta = n.float("beta") ?? 0.75, bias = n.float("bias") ?? 1
        guard x.shape.count == 4 else { throw Self.unsupported("LRN on rank \(x.shape.count)") }
        let t = try x.nhwcTensor()
        let c = t.shape[3], rows = t.count / Swift.max(c, 1)
        let before = (size - 1) / 2, after = size - 1 - before
        let out = try Tensor(uninitializedShape: t.shape)
        for r in 0..<rows {
            let src = t.pointer + r * c, dst = out.pointer + r * c
            for k in 0..<c {
                var sum: Float = 0
                for j in Swift.max(0, k - before)...Swift.min(c - 1, k + after) { sum += src[j] * src[j] }
                dst[k] = src[k] / Foundation.pow(bias + alpha / Float(size) * sum, beta)
            }
        }
        return .float(out, channelsLast: true)
    }

    func softmax(_ n: OnnxGraph.Node, _ x: OnnxValue, log: Bool) throws -> OnnxValue {
        let t = try x.nchwTensor()
        guard t.rank > 0 else { return .nchw(Tensor.scalar(log ? 0 : 1)) }
        func sm(_ u: Tensor) throws -> Tensor { log ? try u.logSoftmax() : try u.softmax() }
        if opset < 13 {
            let ax = try axis(n.int("axis") ?? 1, rank: t.rank)
            let cols = t.shape[ax...].reduce(1, *)
            return .nchw(try sm(t.reshaped([t.count / Swift.max(cols, 1), cols])).reshaped(t.shape))
        }
        let ax = try axis(n.int("axis") ?? -1, rank: t.rank)
        if ax == t.rank - 1 { return .nchw(try sm(t)) }
        var perm = Array(0..<t.rank); perm.swapAt(ax, t.rank - 1)
        return .nchw(try sm(t.permuted(perm)).permuted(perm))
    }

    func reduce(_ n: OnnxGraph.Node, _ x: OnnxValue, axesInput: OnnxValue?) throws -> OnnxValue {
        let d = try x.floats(), r = d.shape.count
        let fromInput = (opset >= 18) || (n.opType == "ReduceSum" && opset >= 13)
        let raw = fromInput ? try axesInput.map { try $0.ints().values.map(Int.init) } : n.ints("axes")
        let keep = (n.int("keepdims") ?? 1) != 0
        var axes = Set(try (raw ?? []).map { try axis($0, rank: r) })
        if axes.isEmpty {
            if (n.int("noop_with_empty_axes") ?? 0) != 0 { return x }
            axes = Set(0..<r)
        }
        // Mean over H and W of a channels-last map: the oneDNN-friendly contiguous reduction.
        if n.opType == "ReduceMean", case let .float(t, true) = x, axes == [2, 3] {
            return keep ? .float(try t.mean(axes: [1, 2], keepDims: true), channelsLast: true) : .nchw(try t.mean(axes: [1, 2]))
        }
        let outKeep = d.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let count = axes.reduce(1) { $0 * d.shape[$1] }
        let st = Dense<Float>.strides(outKeep)
        let initial: Float = switch n.opType { case "ReduceMax": -.infinity; case "ReduceMin": .infinity; default: 0 }
        var acc = [Float](repeating: initial, count: outKeep.reduce(1, *))
        var index = [Int](repeating: 0, count: r)
        for v in d.values {
            var o = 0
            for i in 0..<r where !axes.contains(i) { o += index[i] * st[i] }
            switch n.opType {
            case "ReduceMax": acc[o] = Swift.max(acc[o], v)
            case "ReduceMin": acc[o] = Swift.min(acc[o], v)
            case "ReduceL1": acc[o] += Swift.abs(v)
            case "ReduceL2", "ReduceSumSquare": acc[o] += v * v
            default: acc[o] += v
            }
            var k = r - 1
            while k >= 0 { index[k] += 1; if index[k] < d.shape[k] { break }; index[k] = 0; k -= 1 }
        }
        if n.opType == "ReduceMean" { acc = acc.map { $0 / Float(Swift.max(count, 1)) } }
        if n.opType == "ReduceL2" { acc = acc.map { $0.squareRoot() } }
        let outShape = keep ? outKeep : d.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        if x.isInt { return .int(Dense(shape: outShape, values: acc.map { Int64($0) })) }
        return .nchw(try Tensor(shape: outShape, values: acc))
    }

    // MARK: - products

    func gemm(_ n: OnnxGraph.Node, _ a: OnnxValue, _ b: OnnxValue, _ c: OnnxValue?) throws -> OnnxValue {
        var ta = try a.nchwTensor(), tb = try b.nchwTensor()
        guard ta.rank == 2, tb.rank == 2 else { throw Self.fail("Gemm expects matrices, got \(ta.shape) and \(tb.shape)") }
        if (n.int("transA") ?? 0) != 0 { ta = try ta.permuted([1, 0]) }
        let alpha = n.float("alpha") ?? 1, beta = n.float("beta") ?? 1
        var y = try ta.matmul(tb, transposeB: (n.int("transB") ?? 0) != 0)
        if alpha != 1 { y = try y * alpha }
        if let c, c.shape.reduce(1, *) > 0, beta != 0 {
            let tc = try c.nchwTensor()
            y = try y + (beta == 1 ? tc : tc * beta)
        }
        return .nchw(y)
    }

    func matmul(_ a: OnnxValue, _ b: OnnxValue) throws -> OnnxValue {
        var ta = try a.nchwTensor(), tb = try b.nchwTensor()
        let squeezeA = ta.rank == 1, squeezeB = tb.rank == 1
        if squeezeA { ta = try ta.reshaped([1, ta.count]) }
        if squeezeB { tb = try tb.reshaped([tb.count, 1]) }
        var y: Tensor
        if tb.rank == 2 {
            y = try ta.matmul(tb)
        } else {
            let batch = try broadcastShape(Array(ta.shape.dropLast(2)), Array(tb.shape.dropLast(2)))
            func expand(_ t: Tensor) throws -> Tensor {
                let target = batch + t.shape.suffix(2)
                if t.shape == target { return t }
                let e = Dense(shape: t.shape, values: t.values).expanded(to: target)
                return try Tensor(shape: target, values: e.values)
            }
            y = try expand(ta).matmul(try expand(tb))
        }
        var s = y.shape
        if squeezeA { s.remove(at: s.count - 2) }
        if squeezeB { s.removeLast() }
        return .nchw(try y.reshaped(s))
    }
}
