import Foundation
import GraftTensor
import GraftWeights

/// One box a YOLO head proposes before suppression, relative to the network input (0...1).
public struct YoloCandidate: Sendable, Equatable {
    public var centerX: Float, centerY: Float, width: Float, height: Float
    public var classIndex: Int
    public var score: Float
}

/// Turns the raw output of a `[yolo]` layer into candidate boxes (Darknet src/yolo_layer.c
/// `get_yolo_box` and `get_yolo_detections`):
/// x = (col + sigmoid(tx)) / W, y = (row + sigmoid(ty)) / H (with `scale_x_y` s: sigmoid * s - (s - 1) / 2),
/// w = exp(tw) * anchorW / inputW, h = exp(th) * anchorH / inputH; a cell's anchor is kept when
/// sigmoid(objectness) > threshold, and each class whose objectness * sigmoid(class) > threshold
/// becomes a candidate with that score.
public enum YoloDecoder {
    /// Candidates of image `batchIndex` from one head's raw NHWC output.
    public static func candidates(raw: Tensor, batchIndex: Int, head: DarknetLayer.YoloHead,
                                  inputWidth: Int, inputHeight: Int, threshold: Float) -> [YoloCandidate] {
        let (gh, gw, channels) = (raw.shape[1], raw.shape[2], raw.shape[3])
        let anchors = head.maskedAnchors
        let entries = 5 + head.classes
        precondition(channels == anchors.count * entries, "yolo head channels")
        let s = head.scaleXY
        func sigmoid(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }
        var out: [YoloCandidate] = []
        let base = raw.pointer + batchIndex * gh * gw * channels
        for row in 0..<gh {
            for col in 0..<gw {
                let cell = base + (row * gw + col) * channels
                for (a, anchor) in anchors.enumerated() {
                    let p = cell + a * entries
                    let objectness = sigmoid(p[4])
                    guard objectness > threshold else { continue }
                    let cx = (Float(col) + sigmoid(p[0]) * s - (s - 1) / 2) / Float(gw)
                    let cy = (Float(row) + sigmoid(p[1]) * s - (s - 1) / 2) / Float(gh)
                    let w = Foundation.exp(p[2]) * anchor.width / Float(inputWidth)
                    let h = Foundation.exp(p[3]) * anchor.height / Float(inputHeight)
                    for c in 0..<head.classes {
                        let score = objectness * sigmoid(p[5 + c])
                        if score > threshold {
                            out.append(YoloCandidate(centerX: cx, centerY: cy, width: w, height: h, classIndex: c, score: score))
                        }
                    }
                }
            }
        }
        return out
    }
}
