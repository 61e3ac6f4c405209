import Foundation
import GraftModels
import GraftTensor
import GraftWeights

/// One labelled object of a training image, in network-input pixels (after the letterbox).
public struct DetectionTarget: Sendable, Equatable {
    public var classIndex: Int
    public var centerX: Float, centerY: Float, width: Float, height: Float
    public init(classIndex: Int, centerX: Float, centerY: Float, width: Float, height: Float) {
        self.classIndex = classIndex; self.centerX = centerX; self.centerY = centerY; self.width = width; self.height = height
    }
}

/// The YOLOv3 loss on the raw `[yolo]` inputs, differentiable through Graft's tape.
///
/// Assignment as Darknet's `forward_yolo_layer` (src/yolo_layer.c): each object goes to the one
/// anchor, among all heads' anchors, whose shape best overlaps its own (IoU of boxes sharing a
/// centre), in the cell holding its centre, in the head that owns that anchor. Then, summed over
/// the batch and divided by its size:
/// - box: 1 - GIoU between the decoded prediction and the object (Ultralytics v3's box term);
/// - objectness: BCE with target 1 at assigned anchors and 0 elsewhere, except predictions that
///   already overlap some object by more than `ignoreThreshold` (Darknet's `ignore_thresh`, 0.7),
///   which are left out;
/// - classes: BCE against the one-hot class at assigned anchors (independent sigmoids, as decoding).
public struct YoloLoss: Sendable {
    public var heads: [DarknetLayer.YoloHead]
    public var inputWidth: Int, inputHeight: Int
    public var ignoreThreshold: Float = 0.7
    public var boxWeight: Float = 1, objectnessWeight: Float = 1, classWeight: Float = 1

    public init(heads: [DarknetLayer.YoloHead], inputWidth: Int, inputHeight: Int) {
        self.heads = heads; self.inputWidth = inputWidth; self.inputHeight = inputHeight
    }

    public init(network: DarknetNetwork) {
        self.init(heads: network.heads, inputWidth: network.config.input.width, inputHeight: network.config.input.height)
    }

    public struct Parts { public var total: Tensor; public var box: Float, objectness: Float, classes: Float }

    /// An anchor's place: head, cell row and column, anchor slot within the head's mask.
    struct Slot: Hashable { var head: Int, row: Int, col: Int, anchor: Int }

    /// Darknet's rule: the best-shaped anchor over all heads, the cell holding the centre.
    func assignments(_ targets: [DetectionTarget], grids: [(h: Int, w: Int)]) -> [(Slot, DetectionTarget)] {
        guard let all = heads.first?.anchors else { return [] }
        var out: [(Slot, DetectionTarget)] = []
        for t in targets {
            var best = 0, bestIoU: Float = -1
            for a in 0..<(all.count / 2) {
                let aw = all[2 * a], ah = all[2 * a + 1]
                let inter = min(aw, t.width) * min(ah, t.height)
                let iou = inter / (aw * ah + t.width * t.height - inter)
                if iou > bestIoU { bestIoU = iou; best = a }
            }
            for (h, head) in heads.enumerated() {
                guard let slot = head.mask.firstIndex(of: best) else { continue }
                let (gh, gw) = grids[h]
                let col = min(gw - 1, max(0, Int(t.centerX / Float(inputWidth) * Float(gw))))
                let row = min(gh - 1, max(0, Int(t.centerY / Float(inputHeight) * Float(gh))))
                out.append((Slot(head: h, row: row, col: col, anchor: slot), t))
            }
        }
        return out
    }

    /// The loss of raw head outputs (`DarknetNetwork.forward`, NHWC) against each image's objects.
    public func callAsFunction(_ raw: [Tensor], targets: [[DetectionTarget]]) throws -> Parts {
        guard raw.count == heads.count, let n = raw.first?.shape[0], targets.count == n else {
            throw TensorError.invalidArgument(op: "YoloLoss", reason: "\(raw.count) outputs for \(heads.count) heads, \(targets.count) target lists")
        }
        let grids = raw.map { (h: $0.shape[1], w: $0.shape[2]) }
        var perImage: [[Slot: DetectionTarget]] = []
        for t in targets {
            var slots: [Slot: DetectionTarget] = [:]
            for (slot, target) in assignments(t, grids: grids) { slots[slot] = target }  // a later object wins a shared slot, as in Darknet
            perImage.append(slots)
        }
        var total = Tensor.scalar(0)
        var boxSum: Float = 0, objSum: Float = 0, clsSum: Float = 0
        for (h, head) in heads.enumerated() {
            let out = raw[h]
            let (gh, gw, anchors, classes) = (out.shape[1], out.shape[2], head.mask.count, head.classes)
            let entries = 5 + classes
            let cells = n * gh * gw * anchors
            let x = try out.reshaped([cells, entries])
            // Dense targets and masks, built from values (no gradient flows through them).
            var assigned = [Float](repeating: 0, count: cells), objectTarget = [Float](repeating: 0, count: cells)
            var objectWeight = [Float](repeating: 1, count: cells)
            var classTarget = [Float](repeating: 0, count: cells * classes)
            var box = [Float](repeating: 0, count: cells * 4), grid = [Float](repeating: 0, count: cells * 2)
            var anchorSize = [Float](repeating: 0, count: cells * 2)
            let values = x.values
            for b in 0..<n { for row in 0..<gh { for col in 0..<gw { for a in 0..<anchors {
                let i = ((b * gh + row) * gw + col) * anchors + a
                let (aw, ah) = head.maskedAnchors[a]
                grid[2 * i] = Float(col); grid[2 * i + 1] = Float(row)
                anchorSize[2 * i] = aw / Float(inputWidth); anchorSize[2 * i + 1] = ah / Float(inputHeight)
                // Darknet's ignore rule: a prediction already overlapping an object well is not pushed to 0.
                let p = values[(i * entries)..<(i * entries + 4)].map { $0 }
                let px = (Float(col) + 1 / (1 + exp(-p[0]))) / Float(gw), py = (Float(row) + 1 / (1 + exp(-p[1]))) / Float(gh)
                let pw = exp(min(p[2], 10)) * anchorSize[2 * i], ph = exp(min(p[3], 10)) * anchorSize[2 * i + 1]
                for t in targets[b] {
                    let iou = Self.iou(px, py, pw, ph, t.centerX / Float(inputWidth), t.centerY / Float(inputHeight),
                                       t.width / Float(inputWidth), t.height / Float(inputHeight))
                    if iou > ignoreThreshold { objectWeight[i] = 0; break }
                }
                if let t = perImage[b][Slot(head: h, row: row, col: col, anchor: a)] {
                    assigned[i] = 1; objectTarget[i] = 1; objectWeight[i] = 1
                    if t.classIndex >= 0 && t.classIndex < classes { classTarget[i * classes + t.classIndex] = 1 }
                    box[4 * i] = t.centerX / Float(inputWidth); box[4 * i + 1] = t.centerY / Float(inputHeight)
                    box[4 * i + 2] = t.width / Float(inputWidth); box[4 * i + 3] = t.height / Float(inputHeight)
                }
            } } } }
            let mask = try Tensor(shape: [cells, 1], values: assigned)

            // Objectness.
            let objectness = try x.slice(axis: 1, 4..<5)
            let obj = try (Self.bce(objectness, try Tensor(shape: [cells, 1], values: objectTarget))
                           * Tensor(shape: [cells, 1], values: objectWeight)).sum()
            // Classes, at assigned anchors.
            let logits = try x.slice(axis: 1, 5..<entries)
            let cls = try (Self.bce(logits, try Tensor(shape: [cells, classes], values: classTarget)) * mask).sum()
            // Box: 1 - GIoU of the decoded prediction (input-relative units).
            let g = try Tensor(shape: [cells, 2], values: grid), gridSize = try Tensor(shape: [2], values: [Float(gw), Float(gh)])
            let centre = try (x.slice(axis: 1, 0..<2).sigmoid() + g) / gridSize
            let size = try x.slice(axis: 1, 2..<4).clamp(min: -10, max: 10).exp() * Tensor(shape: [cells, 2], values: anchorSize)
            let truth = try Tensor(shape: [cells, 4], values: box)
            let giou = try Self.giou(centre: centre, size: size, truth: truth)
            let boxLoss = try ((giou.negated() + 1) * mask).sum()

            total = try total + (boxLoss * boxWeight + obj * objectnessWeight + cls * classWeight) * (1 / Float(n))
            boxSum += boxLoss.scalarValue / Float(n); objSum += obj.scalarValue / Float(n); clsSum += cls.scalarValue / Float(n)
        }
        return Parts(total: total, box: boxSum, objectness: objSum, classes: clsSum)
    }

    /// Binary cross-entropy with logits, elementwise: max(x, 0) - x t + log(1 + exp(-|x|)).
    static func bce(_ x: Tensor, _ t: Tensor) throws -> Tensor {
        try x.relu() - x * t + (x.abs().negated().exp() + 1).log()
    }

    /// GIoU per row of centre [M, 2] and size [M, 2] against truth [M, 4] (cx, cy, w, h); elementwise
    /// min and max as (a + b -/+ |a - b|) / 2 so the tape differentiates them.
    static func giou(centre: Tensor, size: Tensor, truth: Tensor) throws -> Tensor {
        func lo(_ a: Tensor, _ b: Tensor) throws -> Tensor { try (a + b - (a - b).abs()) * 0.5 }
        func hi(_ a: Tensor, _ b: Tensor) throws -> Tensor { try (a + b + (a - b).abs()) * 0.5 }
        let p0 = try centre - size * 0.5, p1 = try centre + size * 0.5
        let tc = try truth.slice(axis: 1, 0..<2), ts = try truth.slice(axis: 1, 2..<4)
        let t0 = try tc - ts * 0.5, t1 = try tc + ts * 0.5
        let overlap = try (lo(p1, t1) - hi(p0, t0)).relu()
        let inter = try overlap.slice(axis: 1, 0..<1) * overlap.slice(axis: 1, 1..<2)
        let areaP = try size.slice(axis: 1, 0..<1) * size.slice(axis: 1, 1..<2)
        let areaT = try ts.slice(axis: 1, 0..<1) * ts.slice(axis: 1, 1..<2)
        let union = try areaP + areaT - inter + 1e-9
        let enclose = try hi(p1, t1) - lo(p0, t0)
        let hull = try enclose.slice(axis: 1, 0..<1) * enclose.slice(axis: 1, 1..<2) + 1e-9
        return try inter / union - (hull - union) / hull
    }

    static func iou(_ ax: Float, _ ay: Float, _ aw: Float, _ ah: Float, _ bx: Float, _ by: Float, _ bw: Float, _ bh: Float) -> Float {
        let w = min(ax + aw / 2, bx + bw / 2) - max(ax - aw / 2, bx - bw / 2)
        let h = min(ay + ah / 2, by + bh / 2) - max(ay - ah / 2, by - bh / 2)
        guard w > 0, h > 0 else { return 0 }
        return w * h / (aw * ah + bw * bh - w * h)
    }
}
