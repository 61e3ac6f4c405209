import GraftData

/// Greedy non-maximum suppression per class (Darknet's `do_nms_sort`): within each class, boxes are
/// taken by decreasing score and any box overlapping a kept one by more than `iouThreshold` is dropped.
/// Boxes of different classes never suppress each other.
public enum NonMaxSuppression {
    /// Indices of the kept candidates, by decreasing score (ties keep input order).
    public static func keep(boxes: [BoundingBox], scores: [Float], classes: [Int], iouThreshold: Float) -> [Int] {
        let order = boxes.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var kept: [Int] = []
        var keptByClass: [Int: [Int]] = [:]
        for i in order {
            let same = keptByClass[classes[i], default: []]
            if same.contains(where: { boxes[$0].iou(boxes[i]) > iouThreshold }) { continue }
            kept.append(i)
            keptByClass[classes[i], default: []].append(i)
        }
        return kept
    }
}
