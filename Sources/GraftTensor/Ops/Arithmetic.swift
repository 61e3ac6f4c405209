import GraftKernels

/// The four broadcasting operators, so the common layouts can run on the
/// vectorised C loops (same shape, or a per-channel row) instead of a closure.
enum BinaryOp {
    case add, sub, mul, div

    var name: String {
        switch self { case .add: "add"; case .sub: "sub"; case .mul: "mul"; case .div: "div" }
    }

    @inline(__always) func apply(_ x: Float, _ y: Float) -> Float {
        switch self { case .add: x + y; case .sub: x - y; case .mul: x * y; case .div: x / y }
    }

    func same(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .add: Vector.add(x, y, into: out, count: n)
        case .sub: Vector.sub(x, y, into: out, count: n)
        case .mul: Vector.mul(x, y, into: out, count: n)
        case .div: Vector.div(x, y, into: out, count: n)
        }
    }

    func row(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        switch self {
        case .add: Vector.addRow(x, row, into: out, rows: rows, cols: cols)
        case .sub: Vector.subRow(x, row, into: out, rows: rows, cols: cols)
        case .mul: Vector.mulRow(x, row, into: out, rows: rows, cols: cols)
        case .div: Vector.divRow(x, row, into: out, rows: rows, cols: cols)
        }
    }
}

/// Broadcasting elementwise arithmetic with gradients.
extension Tensor {
    static func broadcastBinary(_ a: Tensor, _ b: Tensor, _ op: BinaryOp) throws -> Tensor {
        if a.shape == b.shape {
            let out = try Tensor(uninitializedShape: a.shape)
            op.same(a.pointer, b.pointer, out.pointer, a.count)
            return out
        }
        if b.count > 1 && Broadcast.isSuffix(b.shape, of: a.shape) {
            let shape = try Broadcast.shape(a.shape, b.shape, op: op.name)
            if shape == a.shape {
                let out = try Tensor(uninitializedShape: shape)
                op.row(a.pointer, b.pointer, out.pointer, rows: a.count / b.count, cols: b.count)
                return out
            }
        }
        return try broadcastBinary(a, b, op: op.name) { op.apply($0, $1) }
    }

    /// Applies `f` elementwise with broadcasting; fast paths for equal shapes,
    /// scalars and a trailing-suffix operand (per-channel NHWC).
    static func broadcastBinary(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        if a.shape == b.shape {
            let out = try Tensor(uninitializedShape: a.shape)
            Elementwise.binary(a.pointer, b.pointer, out.pointer, a.count, f)
            return out
        }
        let shape = try Broadcast.shape(a.shape, b.shape, op: op)
        let out = try Tensor(uninitializedShape: shape)
        let pa = a.pointer, pb = b.pointer, po = out.pointer
        if b.count == 1 {
            let s = pb[0]
            if a.count == out.count { Elementwise.unary(pa, po, out.count) { f($0, s) }; return out }
        } else if a.count == 1 {
            let s = pa[0]
            if b.count == out.count { Elementwise.unary(pb, po, out.count) { f(s, $0) }; return out }
        }
        if a.count == out.count && Broadcast.isSuffix(b.shape, of: shape) {
            let inner = b.count
            Elementwise.chunked(out.count / inner) { rows in
                for r in rows { let base = r * inner; for c in 0..<inner { po[base + c] = f(pa[base + c], pb[c]) } }
            }
            return out
        }
        if b.count == out.count && Broadcast.isSuffix(a.shape, of: shape) {
            let inner = a.count
            Elementwise.chunked(out.count / inner) { rows in
                for r in rows { let base = r * inner; for c in 0..<inner { po[base + c] = f(pa[c], pb[base + c]) } }
            }
            return out
        }
        Broadcast.forEach(outShape: shape, aStrides: Broadcast.strides(of: a.shape, in: shape),
                          bStrides: Broadcast.strides(of: b.shape, in: shape)) { i, ao, bo in po[i] = f(pa[ao], pb[bo]) }
        return out
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try broadcastBinary(a, b, .add).recorded("add", [a, b]) { g in
            [a.needsGrad ? try g.sumToShape(a.shape) : nil, b.needsGrad ? try g.sumToShape(b.shape) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try broadcastBinary(a, b, .sub).recorded("sub", [a, b]) { g in
            [a.needsGrad ? try g.sumToShape(a.shape) : nil, b.needsGrad ? try g.negated().sumToShape(b.shape) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try broadcastBinary(a, b, .mul).recorded("mul", [a, b]) { g in
            [a.needsGrad ? try (g * b).sumToShape(a.shape) : nil,
             b.needsGrad ? try (g * a).sumToShape(b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        try broadcastBinary(a, b, .div).recorded("div", [a, b]) { g in
            [a.needsGrad ? try (g / b).sumToShape(a.shape) : nil,
             b.needsGrad ? try (try (g * a) / (b * b)).negated().sumToShape(b.shape) : nil]
        }
    }

    public static func + (a: Tensor, s: Float) throws -> Tensor { try a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) throws -> Tensor { try a.affine(scale: 1, shift: -s) }
    public static func * (a: Tensor, s: Float) throws -> Tensor { try a.affine(scale: s, shift: 0) }
    public static func * (s: Float, a: Tensor) throws -> Tensor { try a.affine(scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) throws -> Tensor { try a.affine(scale: 1 / s, shift: 0) }

    /// x * scale + shift, elementwise.
    public func affine(scale: Float, shift: Float) throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape)
        Elementwise.unary(pointer, out.pointer, count) { $0 * scale + shift }
        return out.recorded("affine", [self]) { g in [try g.affine(scale: scale, shift: 0)] }
    }

    public func negated() throws -> Tensor { try affine(scale: -1, shift: 0) }
}
