import GraftNN
import GraftTensor

/// BERT as ONNX nodes, the arithmetic of `BERT.hiddenStates` (the unfused reference path): inputs are
/// int64 `[N, L]` token ids, attention mask and token types; tokenization stays outside the graph, as in
/// every ONNX text export.
extension BERT {
    /// Hidden states `[N, L, H]` after `upToLayer` layers (nil: all).
    public func exportONNX(_ g: inout ONNXGraphBuilder, ids: String, mask: String, tokenTypes: String, upToLayer: Int?) -> String {
        g.nameTensors(of: self)
        let e = embeddings
        // Positions 0..<L: the first L rows of the position table.
        let length = g.node("Gather", [g.node("Shape", [ids]), g.int64s("one_index", [1], shape: [])], [ONNXAttribute.int("axis", 0)], name: "length")
        let positions = g.node("Slice", [g.constant("position_table", e.positionEmbeddings.weight), g.int64s("zero", [0]),
                                         g.node("Unsqueeze", [length, g.int64s("axis0", [0])]), g.int64s("axis0", [0])], name: "positions")
        var h = g.node("Add", [g.node("Gather", [g.constant("word", e.wordEmbeddings.weight), ids], name: "word_embeddings"),
                               g.node("Gather", [g.constant("types", e.tokenTypeEmbeddings.weight), tokenTypes], name: "token_type_embeddings")])
        h = g.layerNorm(g.node("Add", [h, positions]), e.layerNorm)
        // Additive mask [N, 1, 1, L]: 0 for tokens, -1e9 for padding.
        let keep = g.node("Cast", [mask], [ONNXAttribute.int("to", 1)], name: "mask_float")
        let additive = g.node("Mul", [g.node("Sub", [g.constant("one", shape: [], values: [1]), keep]), g.constant("neg", shape: [], values: [-1e9])])
        let mask4 = g.node("Unsqueeze", [additive, g.int64s("axes12", [1, 2])], name: "additive_mask")
        for layer in layers.items.prefix(min(upToLayer ?? layers.count, layers.count)) {
            h = layer.exportONNX(&g, h, mask: mask4)
        }
        return h
    }
}

extension BertLayer {
    func exportONNX(_ g: inout ONNXGraphBuilder, _ x: String, mask: String) -> String {
        let hidden = query.outFeatures, d = hidden / heads
        let split = g.int64s("heads_shape", [0, 0, heads, d])
        func splitHeads(_ t: String, _ perm: [Int]) -> String {
            g.node("Transpose", [g.node("Reshape", [t, split])], [ONNXAttribute.ints("perm", perm)])
        }
        let q = splitHeads(g.matmulLinear(x, query), [0, 2, 1, 3])
        let kT = splitHeads(g.matmulLinear(x, key), [0, 2, 3, 1])
        let v = splitHeads(g.matmulLinear(x, value), [0, 2, 1, 3])
        let scores = g.node("Add", [g.node("Mul", [g.node("MatMul", [q, kT]), g.constant("scale", shape: [], values: [1 / Float(d).squareRoot()])]), mask])
        let probs = g.node("Softmax", [scores], [ONNXAttribute.int("axis", -1)])
        let merged = g.node("Reshape", [g.node("Transpose", [g.node("MatMul", [probs, v])], [ONNXAttribute.ints("perm", [0, 2, 1, 3])]),
                                        g.int64s("merge_shape", [0, 0, hidden])], name: "context")
        let attended = g.layerNorm(g.node("Add", [g.matmulLinear(merged, attentionOutput), x]), attentionNorm)
        let inner = g.activation(g.matmulLinear(attended, intermediate), .gelu)
        return g.layerNorm(g.node("Add", [g.matmulLinear(inner, output), attended]), outputNorm)
    }
}

extension ONNXGraphBuilder {
    /// `poolTokens` as nodes: [N, L, H] states and the int64 mask -> [N, H].
    public mutating func poolTokens(_ states: String, mask: String, mode: PoolingMode, normalize: Bool) -> String {
        var pooled: String
        switch mode {
        case .cls:
            pooled = node("Gather", [states, int64s("zero_index", [0], shape: [])], [ONNXAttribute.int("axis", 1)], name: "cls")
        case .mean:
            let m = node("Unsqueeze", [node("Cast", [mask], [ONNXAttribute.int("to", 1)]), int64s("axis2", [2])], name: "token_weights")
            let axis1 = int64s("axis1", [1])
            let sum = node("ReduceSum", [node("Mul", [states, m]), axis1], [ONNXAttribute.int("keepdims", 0)])
            let count = node("Max", [node("ReduceSum", [m, axis1], [ONNXAttribute.int("keepdims", 0)]), constant("tiny", shape: [], values: [1e-9])])
            pooled = node("Div", [sum, count], name: "mean_pool")
        case .max:
            let m = node("Unsqueeze", [node("Cast", [mask], [ONNXAttribute.int("to", 1)]), int64s("axis2", [2])])
            let penalty = node("Mul", [node("Sub", [constant("one", shape: [], values: [1]), m]), constant("neg", shape: [], values: [-1e9])])
            pooled = node("ReduceMax", [node("Add", [states, penalty])], [ONNXAttribute.ints("axes", [1]), ONNXAttribute.int("keepdims", 0)], name: "max_pool")
        }
        guard normalize else { return pooled }
        let norm = node("Sqrt", [node("ReduceSum", [node("Mul", [pooled, pooled]), int64s("axis_last", [-1])], [ONNXAttribute.int("keepdims", 1)])])
        return node("Div", [pooled, node("Max", [norm, constant("norm_floor", shape: [], values: [1e-12])])], name: "normalized")
    }
}
