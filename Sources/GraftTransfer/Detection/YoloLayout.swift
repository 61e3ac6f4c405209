import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftWeights

/// How a YOLO task network's output row is laid out: each `[yolo]` head's raw NHWC map
/// (`grid.h x grid.w x anchors * (5 + classes)`), flattened and concatenated in cfg order, at an input
/// of `inputWidth` x `inputHeight`. The detection task reads rows back into maps (loss) and boxes (metrics).
public struct YoloLayout: Sendable, Equatable {
    public var heads: [DarknetLayer.YoloHead]
    public var grids: [Grid]
    public var inputWidth: Int, inputHeight: Int

    public struct Grid: Sendable, Equatable { public var height: Int, width: Int, channels: Int }

    public init(heads: [DarknetLayer.YoloHead], grids: [Grid], inputWidth: Int, inputHeight: Int) {
        self.heads = heads; self.grids = grids; self.inputWidth = inputWidth; self.inputHeight = inputHeight
    }

    /// The layout of a network's cfg (every `[yolo]` layer's input shape at the cfg's input size).
    public init(_ config: DarknetConfig) {
        var heads: [DarknetLayer.YoloHead] = [], grids: [Grid] = []
        for layer in config.layers {
            if case let .yolo(h) = layer.kind {
                heads.append(h)
                grids.append(Grid(height: layer.output.height, width: layer.output.width, channels: layer.output.channels))
            }
        }
        self.init(heads: heads, grids: grids, inputWidth: config.input.width, inputHeight: config.input.height)
    }

    /// Values per item.
    public var rowWidth: Int { grids.reduce(0) { $0 + $1.height * $1.width * $1.channels } }

    /// Raw head maps `[n, h, w, c]` (flattened and concatenated per row), as a network's outputs.
    public func flatten(_ maps: [Tensor]) throws -> Tensor {
        let rows = try maps.map { try $0.flattened(fromAxis: 1) }
        return rows.count == 1 ? rows[0] : try Tensor.concat(rows, axis: 1)
    }

    /// The head maps of outputs `[n, rowWidth]`, taped (the loss differentiates through them).
    public func maps(_ outputs: Tensor) throws -> [Tensor] {
        guard outputs.rank == 2, outputs.shape[1] == rowWidth else {
            throw TransferError.unsupported("detection outputs must be [n, \(rowWidth)] (the YOLO heads' maps), got \(outputs.shape)")
        }
        var start = 0
        return try grids.map { g in
            let size = g.height * g.width * g.channels
            defer { start += size }
            return try outputs.slice(axis: 1, start..<(start + size)).reshaped([outputs.shape[0], g.height, g.width, g.channels])
        }
    }

    /// Boxes of one output row, relative to the input (0...1), after Darknet's decoding and class-aware NMS.
    public func detections(row: ArraySlice<Float>, threshold: Float, iouThreshold: Float) throws -> [YoloCandidate] {
        var candidates: [YoloCandidate] = []
        var start = row.startIndex
        for (head, g) in zip(heads, grids) {
            let size = g.height * g.width * g.channels
            let map = try Tensor(shape: [1, g.height, g.width, g.channels], values: Array(row[start..<(start + size)]))
            start += size
            candidates += YoloDecoder.candidates(raw: map, batchIndex: 0, head: head, inputWidth: inputWidth, inputHeight: inputHeight,
                                                 threshold: threshold)
        }
        let boxes = candidates.map { BoundingBox(centerX: $0.centerX, centerY: $0.centerY, width: $0.width, height: $0.height) }
        let kept = NonMaxSuppression.keep(boxes: boxes, scores: candidates.map(\.score), classes: candidates.map(\.classIndex),
                                          iouThreshold: iouThreshold)
        return kept.map { candidates[$0] }
    }
}
