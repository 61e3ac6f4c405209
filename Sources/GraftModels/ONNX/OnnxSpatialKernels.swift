import Foundation
import GraftKernels
import GraftTensor
import GraftWeights

/// A convolution whose batch norm was folded into its weights at load, with the activation and
/// residual add that follow it (oneDNN post-ops).
struct FusedConv {
    var weight: Tensor
    var bias: Tensor?
    var activation: Activation?
    var residual: OnnxValue?
    /// Nothing reads `residual` after this convolution: its buffer becomes the output's (no copy).
    var consumesResidual = false
}

/// Convolutions, pools and resizing. 1-D maps run as 2-D maps of height 1; 2-D maps run
/// channels-last on GraftTensor's oneDNN convolution and pooling.
extension OnnxKernels {
    /// ONNX `pads` (or `auto_pad`) as begin and end padding per spatial dim.
    func spatialPads(_ n: OnnxGraph.Node, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> (begin: [Int], end: [Int]) {
        let sp = input.count
        switch n.string("auto_pad") ?? "NOTSET" {
        case "NOTSET", "":
            let p = n.ints("pads") ?? [Int](repeating: 0, count: 2 * sp)
            guard p.count == 2 * sp, p.allSatisfy({ $0 >= 0 }) else { throw Self.fail("pads \(p) for \(sp) spatial dims") }
            return (Array(p[..<sp]), Array(p[sp...]))
        case "VALID": return ([Int](repeating: 0, count: sp), [Int](repeating: 0, count: sp))
        case let mode:
            var b: [Int] = [], e: [Int] = []
            for i in 0..<sp {
                let out = (input[i] + strides[i] - 1) / strides[i]
                let total = Swift.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i])
                let small = total / 2
                if mode == "SAME_LOWER" { b.append(total - small); e.append(small) } else { b.append(small); e.append(total - small) }
            }
            return (b, e)
        }
    }

    private func spatialAttributes(_ n: OnnxGraph.Node, spatial: Int) throws -> (strides: [Int], dilations: [Int]) {
        let s = n.ints("strides") ?? [Int](repeating: 1, count: spatial)
        let d = n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
        guard s.count == spatial, d.count == spatial, s.allSatisfy({ $0 >= 1 }), d.allSatisfy({ $0 >= 1 }) else {
            throw Self.fail("strides \(s) / dilations \(d) for \(spatial) spatial dims")
        }
        return (s, d)
    }

    /// The input as NHWC, a 1-D map [N, C, L] becoming [N, 1, L, C].
    private func nhwcInput(_ x: OnnxValue, op: String) throws -> Tensor {
        let s = x.shape
        switch s.count {
        case 4: return try x.nhwcTensor()
        case 3: return try x.nchwTensor().permuted([0, 2, 1]).reshaped([s[0], 1, s[2], s[1]])
        default: throw Self.unsupported("\(op) on a rank-\(s.count) input (1-D and 2-D maps are supported)")
        }
    }

    /// An NHWC result back as the value of a rank-`rank` map.
    private func fromNHWC(_ t: Tensor, rank: Int) throws -> OnnxValue {
        if rank == 4 { return .float(t, channelsLast: true) }
        return .nchw(try t.reshaped([t.shape[0], t.shape[2], t.shape[3]]).permuted([0, 2, 1]))
    }

    /// `int8`: the step's quantization when it computes in int8 (a calibrated step under int8 inference).
    func conv(_ n: OnnxGraph.Node, _ x: OnnxValue, _ w: OnnxValue, _ b: OnnxValue?, fused: FusedConv?,
              int8: ConvInt8Parameters? = nil) throws -> OnnxValue {
        let xs = x.shape
        var weight = try fused?.weight ?? w.nchwTensor()
        guard xs.count == weight.rank, xs.count >= 3 else { throw Self.fail("input \(xs) and weight \(weight.shape) ranks differ") }
        let spatial = xs.count - 2
        let (strides, dilations) = try spatialAttributes(n, spatial: spatial)
        let kernel = Array(weight.shape[2...])
        let (pb, pe) = try spatialPads(n, input: Array(xs[2...]), kernel: kernel, strides: strides, dilations: dilations)
        let groups = n.int("group") ?? 1
        let bias: Tensor? = try fused.map { $0.bias } ?? b.map { try $0.nchwTensor().reshaped([weight.shape[0]]) }
        let input = try nhwcInput(x, op: "Conv")
        let options: Conv2DOptions
        if spatial == 1 {
            weight = try weight.reshaped([weight.shape[0], weight.shape[1], 1, kernel[0]])
            options = Conv2DOptions(strideH: 1, strideW: strides[0], padTop: 0, padBottom: 0, padLeft: pb[0], padRight: pe[0],
                                    dilationH: 1, dilationW: dilations[0], groups: groups)
        } else {
            options = try conv2DOptions(n, input: xs, kernel: kernel)
        }
        let out: Tensor
        if let residual = fused?.residual {
            out = try input.conv2d(weight: weight, bias: bias, options: options, adding: try residual.nhwcTensor(), activation: fused?.activation,
                               consumingResidual: fused?.consumesResidual ?? false, int8: int8)
        } else {
            out = try input.conv2d(weight: weight, bias: bias, options: options, activation: fused?.activation, int8: int8)
        }
        return try fromNHWC(out, rank: xs.count)
    }

    /// A 2-D Conv node's options for an NCHW input of shape `input` and a `kernel` (kh, kw).
    func conv2DOptions(_ n: OnnxGraph.Node, input: [Int], kernel: [Int]) throws -> Conv2DOptions {
        let (strides, dilations) = try spatialAttributes(n, spatial: 2)
        let (pb, pe) = try spatialPads(n, input: Array(input[2...]), kernel: kernel, strides: strides, dilations: dilations)
        return Conv2DOptions(strideH: strides[0], strideW: strides[1], padTop: pb[0], padBottom: pe[0], padLeft: pb[1], padRight: pe[1],
                             dilationH: dilations[0], dilationW: dilations[1], groups: n.int("group") ?? 1)
    }

    /// Transposed convolution as one matrix product per group (input rows times the weight) and a
    /// scatter-add of the columns into the output (col2im).
    func convTranspose(_ n: OnnxGraph.Node, _ x: OnnxValue, _ w: OnnxValue, _ b: OnnxValue?) throws -> OnnxValue {
        let xs = x.shape
        let weight = try w.nchwTensor()
        guard xs.count == weight.rank, xs.count == 3 || xs.count == 4 else {
            throw Self.unsupported("ConvTranspose on a rank-\(xs.count) input (1-D and 2-D maps are supported)")
        }
        guard (n.string("auto_pad") ?? "NOTSET") == "NOTSET", n.ints("output_shape") == nil else {
            throw Self.unsupported("ConvTranspose with auto_pad or output_shape")
        }
        let spatial = xs.count - 2
        let (strides, dilations) = try spatialAttributes(n, spatial: spatial)
        let groups = n.int("group") ?? 1
        let cin = xs[1], coutG = weight.shape[1], cout = coutG * groups
        guard cin % groups == 0, weight.shape[0] == cin else { throw Self.fail("weight \(weight.shape) for \(cin) input channels, \(groups) groups") }
        let cinG = cin / groups
        let p = n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
        let op = n.ints("output_padding") ?? [Int](repeating: 0, count: spatial)
        guard p.count == 2 * spatial, op.count == spatial else { throw Self.fail("pads \(p), output_padding \(op)") }
        // 2-D view: (H, W) with H = 1 for 1-D maps.
        let (ih, iw) = spatial == 2 ? (xs[2], xs[3]) : (1, xs[2])
        let (kh, kw) = spatial == 2 ? (weight.shape[2], weight.shape[3]) : (1, weight.shape[2])
        let (sh, sw) = spatial == 2 ? (strides[0], strides[1]) : (1, strides[0])
        let (dh, dw) = spatial == 2 ? (dilations[0], dilations[1]) : (1, dilations[0])
        let (pt, pl) = spatial == 2 ? (p[0], p[1]) : (0, p[0])
        let (pbm, prt) = spatial == 2 ? (p[2], p[3]) : (0, p[1])
        let (oph, opw) = spatial == 2 ? (op[0], op[1]) : (0, op[0])
        let oh = sh * (ih - 1) + oph + (kh - 1) * dh + 1 - pt - pbm
        let ow = sw * (iw - 1) + opw + (kw - 1) * dw + 1 - pl - prt
        guard oh > 0, ow > 0 else { throw Self.fail("output size \(oh)x\(ow)") }
        let batch = xs[0]
        let input = try nhwcInput(x, op: "ConvTranspose")    // [N, ih, iw, cin]
        let rows = try input.reshaped([batch * ih * iw, cin])
        let out = try Tensor(uninitializedShape: [batch, cout, oh, ow])
        out.pointer.update(repeating: 0, count: out.count)
        let kk = kh * kw
        for g in 0..<groups {
            let xg = groups == 1 ? rows : try rows.slice(axis: 1, (g * cinG)..<((g + 1) * cinG))
            let wg = try (groups == 1 ? weight : try weight.slice(axis: 0, (g * cinG)..<((g + 1) * cinG))).reshaped([cinG, coutG * kk])
            let cols = try xg.matmul(wg)     // [N*ih*iw, coutG * kh * kw]
            let c = cols.pointer, o = out.pointer
            for nb in 0..<batch { for y in 0..<ih { for xx in 0..<iw {
                let row = c + ((nb * ih + y) * iw + xx) * coutG * kk
                for co in 0..<coutG {
                    let dst = o + (nb * cout + g * coutG + co) * oh * ow
                    for ky in 0..<kh {
                        let oy = y * sh - pt + ky * dh
                        guard oy >= 0 && oy < oh else { continue }
                        for kx in 0..<kw {
                            let ox = xx * sw - pl + kx * dw
                            guard ox >= 0 && ox < ow else { continue }
                            dst[oy * ow + ox] += row[co * kk + ky * kw + kx]
                        }
                    }
                }
            } } }
        }
        if let b {
            let bias = try b.floats().values
            guard bias.count == cout else { throw Self.fail("bias of \(bias.count) for \(cout) channels") }
            for nb in 0..<batch { for co in 0..<cout {
                let dst = out.pointer + (nb * cout + co) * oh * ow
                for i in 0..<(oh * ow) { dst[i] += bias[co] }
            } }
        }
        return .nchw(spatial == 2 ? out : try out.reshaped([batch, cout, ow]))
    }

    func pool(_ n: OnnxGraph.Node, _ x: OnnxValue) throws -> OnnxValue {
        let xs = x.shape
        guard xs.count == 3 || xs.count == 4 else { throw Self.unsupported("\(n.opType) on a rank-\(xs.count) input (1-D and 2-D maps are supported)") }
        if n.opType == "MaxPool", n.outputs.count > 1, !n.outputs[1].isEmpty { throw Self.unsupported("MaxPool's Indices output") }
        let spatial = xs.count - 2
        guard let kernel = n.ints("kernel_shape"), kernel.count == spatial, kernel.allSatisfy({ $0 >= 1 }) else {
            throw Self.fail("kernel_shape \(n.ints("kernel_shape") ?? []) for \(spatial) spatial dims")
        }
        let (strides, dilations) = try spatialAttributes(n, spatial: spatial)
        guard dilations.allSatisfy({ $0 == 1 }) else { throw Self.unsupported("\(n.opType) with dilations \(dilations)") }
        let input = Array(xs[2...])
        var (pb, pe) = try spatialPads(n, input: input, kernel: kernel, strides: strides, dilations: dilations)
        let includePad = n.opType == "AveragePool" && (n.int("count_include_pad") ?? 0) != 0
        if (n.int("ceil_mode") ?? 0) != 0 {
            for i in 0..<spatial {
                let span = input[i] + pb[i] + pe[i] - kernel[i]
                var out = (span + strides[i] - 1) / strides[i] + 1
                if (out - 1) * strides[i] >= input[i] + pb[i] { out -= 1 }   // no window may start in the end padding
                let extra = (out - 1) * strides[i] + kernel[i] - (input[i] + pb[i] + pe[i])
                if extra > 0 {
                    if includePad { throw Self.unsupported("AveragePool with ceil_mode and count_include_pad") }
                    pe[i] += extra
                }
            }
        }
        let kind: PoolKind = n.opType == "MaxPool" ? .max : (includePad ? .averageIncludingPadding : .averageExcludingPadding)
        let options: Conv2DOptions
        let k: (Int, Int)
        if spatial == 1 {
            k = (1, kernel[0])
            options = Conv2DOptions(strideH: 1, strideW: strides[0], padTop: 0, padBottom: 0, padLeft: pb[0], padRight: pe[0])
        } else {
            k = (kernel[0], kernel[1])
            options = Conv2DOptions(strideH: strides[0], strideW: strides[1], padTop: pb[0], padBottom: pe[0], padLeft: pb[1], padRight: pe[1])
        }
        return try fromNHWC(try nhwcInput(x, op: n.opType).pool2d(kind, kernel: k, options: options), rank: xs.count)
    }

    func globalPool(max: Bool, _ x: OnnxValue) throws -> OnnxValue {
        let xs = x.shape
        guard xs.count >= 3 else { throw Self.fail("input rank \(xs.count)") }
        if xs.count == 4 {
            let t = try x.nhwcTensor()
            // Average: oneDNN's threaded pooling, as the native models' global pool.
            let y = max ? try t.max(axis: 1, keepDims: true).max(axis: 2, keepDims: true)
                        : try t.globalAvgPool2d().reshaped([xs[0], 1, 1, xs[1]])
            return .float(y, channelsLast: true)
        }
        let d = try x.floats()
        let outer = xs[0] * xs[1], inner = d.count / Swift.max(outer, 1)
        let v = (0..<outer).map { i -> Float in
            let s = d.values[(i * inner)..<((i + 1) * inner)]
            return max ? (s.max() ?? 0) : s.reduce(0, +) / Float(Swift.max(inner, 1))
        }
        return .nchw(try Tensor(shape: [xs[0], xs[1]] + [Int](repeating: 1, count: xs.count - 2), values: v))
    }

    func resize(_ n: OnnxGraph.Node, _ inputs: [OnnxValue?]) throws -> OnnxValue {
        guard let x = inputs.first ?? nil else { throw Self.fail("no input") }
        let s = x.shape, r = s.count
        func input(_ i: Int) -> OnnxValue? { i < inputs.count ? inputs[i] : nil }
        let legacy = n.opType == "Upsample" || opset < 11
        var scales: [Float]? = nil, sizes: [Int]? = nil
        if n.opType == "Upsample" && opset < 9 { scales = n.floats("scales") }
        else if legacy { scales = try input(1)?.floats().values }
        else {
            if let v = input(2) { let f = try v.floats().values; if !f.isEmpty { scales = f } }
            if let v = input(3) { let i = try v.ints().values.map(Int.init); if !i.isEmpty { sizes = i } }
        }
        if let axes = n.ints("axes") {
            let ax = try axes.map { try axis($0, rank: r) }
            if let sc = scales { var f = [Float](repeating: 1, count: r); for (k, a) in ax.enumerated() { f[a] = sc[k] }; scales = f }
            if let sz = sizes { var f = s; for (k, a) in ax.enumerated() { f[a] = sz[k] }; sizes = f }
        }
        guard (n.int("antialias") ?? 0) == 0, (n.string("keep_aspect_ratio_policy") ?? "stretch") == "stretch" else {
            throw Self.unsupported("Resize with antialias or keep_aspect_ratio_policy")
        }
        let out: [Int]
        let scale: [Float]
        if let sizes {
            guard sizes.count == r else { throw Self.fail("sizes \(sizes) for rank \(r)") }
            out = sizes; scale = (0..<r).map { Float(sizes[$0]) / Float(Swift.max(s[$0], 1)) }
        } else if let scales {
            guard scales.count == r, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw Self.fail("scales \(scales) for rank \(r)") }
            out = (0..<r).map { Int((Float(s[$0]) * scales[$0]).rounded(.down)) }; scale = scales
        } else { throw Self.fail("neither scales nor sizes") }
        guard out.allSatisfy({ $0 >= 0 }), OnnxTensorData.elementCount(out) != nil else { throw Self.fail("output shape \(out)") }
        let mode = n.string("mode") ?? "nearest"
        let transform = legacy ? "asymmetric" : (n.string("coordinate_transformation_mode") ?? "half_pixel")
        func source(_ o: Int, _ i: Int) -> Float {
            let (xo, inD, outD, sc) = (Float(o), Float(s[i]), Float(out[i]), scale[i])
            switch transform {
            case "align_corners": return outD <= 1 ? 0 : xo * (inD - 1) / (outD - 1)
            case "asymmetric": return xo / sc
            case "pytorch_half_pixel": return outD > 1 ? (xo + 0.5) / sc - 0.5 : 0
            case "tf_half_pixel_for_nn": return (xo + 0.5) / sc
            default: return (xo + 0.5) / sc - 0.5
            }
        }
        guard ["half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel", "tf_half_pixel_for_nn"].contains(transform) else {
            throw Self.unsupported("Resize coordinate_transformation_mode \(transform)")
        }
        var d = try x.floats()
        switch mode {
        case "nearest":
            let rounding = legacy ? "floor" : (n.string("nearest_mode") ?? "round_prefer_floor")
            let maps: [[Int]] = (0..<r).map { i in
                (0..<out[i]).map { o in
                    let c = source(o, i)
                    var k: Float
                    switch rounding {
                    case "floor": k = c.rounded(.down)
                    case "ceil": k = c.rounded(.up)
                    case "round_prefer_ceil": k = c.rounded(.toNearestOrAwayFromZero)
                    default: k = (c - c.rounded(.down)) == 0.5 ? c.rounded(.down) : c.rounded()
                    }
                    return Swift.min(Swift.max(Int(k), 0), s[i] - 1)
                }
            }
            let st = Dense<Float>.strides(s)
            d = Dense.build(out) { idx in d.values[(0..<r).reduce(0) { $0 + maps[$1][idx[$1]] * st[$1] }] }
        case "linear":
            // Separable: one 1-D linear pass per resized axis.
            for i in 0..<r where out[i] != d.shape[i] || scale[i] != 1 {
                let inD = s[i]
                let taps: [(Int, Int, Float)] = (0..<out[i]).map { o in
                    let c = Swift.min(Swift.max(source(o, i), 0), Float(inD - 1))
                    let lo = Int(c.rounded(.down))
                    return (lo, Swift.min(lo + 1, inD - 1), c - Float(lo))
                }
                let st = Dense<Float>.strides(d.shape)
                var shape = d.shape; shape[i] = out[i]
                let cur = d
                d = Dense.build(shape) { idx in
                    var base = 0
                    for k in 0..<r where k != i { base += idx[k] * st[k] }
                    let (lo, hi, w) = taps[idx[i]]
                    return cur.values[base + lo * st[i]] * (1 - w) + cur.values[base + hi * st[i]] * w
                }
            }
        default: throw Self.unsupported("Resize mode \(mode)")
        }
        return .nchw(try Tensor(shape: d.shape, values: d.values))
    }
}
