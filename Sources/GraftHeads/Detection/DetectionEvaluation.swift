/// COCO-style detection metrics: AP per class at IoU 0.5 and averaged over IoU 0.5:0.05:0.95, the
/// way pycocotools' `COCOeval` (bbox, area "all", 100 detections per image) computes them
/// (cocoeval.py `evaluateImg` + `accumulate`): greedy matching of each image's detections by score
/// to the best-overlapping unmatched object of the same class, precision made monotone, sampled at
/// 101 recall points, averaged over the classes that have objects.
public enum DetectionEvaluation {
    /// A box as COCO writes it: top-left corner and size, in pixels.
    public struct Box: Sendable, Equatable {
        public var x: Double, y: Double, width: Double, height: Double
        public init(x: Double, y: Double, width: Double, height: Double) { self.x = x; self.y = y; self.width = width; self.height = height }

        /// COCO's IoU (pycocotools maskApi `bbIou`): plain areas, no +1; for a crowd object the union is the detection.
        func iou(_ g: Box, crowd: Bool) -> Double {
            let w = min(x + width, g.x + g.width) - max(x, g.x), h = min(y + height, g.y + g.height) - max(y, g.y)
            guard w > 0, h > 0 else { return 0 }
            let inter = w * h
            let union = crowd ? width * height : width * height + g.width * g.height - inter
            return inter / union
        }
    }

    public struct Object: Sendable {
        public var image: Int, classID: Int, box: Box, isCrowd: Bool
        public init(image: Int, classID: Int, box: Box, isCrowd: Bool = false) {
            self.image = image; self.classID = classID; self.box = box; self.isCrowd = isCrowd
        }
    }

    public struct Prediction: Sendable {
        public var image: Int, classID: Int, score: Double, box: Box
        public init(image: Int, classID: Int, score: Double, box: Box) {
            self.image = image; self.classID = classID; self.score = score; self.box = box
        }
    }

    public struct ClassResult: Sendable, Equatable {
        public var classID: Int
        public var objects: Int
        /// AP at IoU 0.5 and the mean AP over IoU 0.5, 0.55, ..., 0.95.
        public var ap50: Double, ap5095: Double
    }

    public struct Report: Sendable, Equatable {
        /// Classes with at least one (non-crowd) object, by class id.
        public var perClass: [ClassResult]
        public var map50: Double, map5095: Double
    }

    /// NumPy's `linspace(.5, .95, 10)` and `linspace(0, 1, 101)` bit for bit (i * step + start, last = stop),
    /// so a recall or IoU that lands exactly on a threshold is judged as pycocotools judges it.
    public static let iouThresholds: [Double] = linspace(0.5, 0.95, 10)
    static let recallThresholds: [Double] = linspace(0, 1, 101)

    static func linspace(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
        let step = (stop - start) / Double(n - 1)
        return (0..<n).map { $0 == n - 1 ? stop : Double($0) * step + start }
    }

    public static func evaluate(objects: [Object], predictions: [Prediction], maxDetections: Int = 100) -> Report {
        let classes = Set(objects.map(\.classID)).sorted()
        let images = Set(objects.map(\.image) + predictions.map(\.image)).sorted()
        var perClass: [ClassResult] = []
        var all50: [Double] = [], allMean: [Double] = []
        for c in classes {
            // Per threshold: (score, matched, ignored) of every kept detection, image by image.
            var records = [[(score: Double, matched: Bool, ignored: Bool)]](repeating: [], count: iouThresholds.count)
            var objectCount = 0
            for image in images {
                // Objects: non-crowd first (COCO sorts by ignore flag, stably).
                let raw = objects.filter { $0.image == image && $0.classID == c }
                let gts = raw.filter { !$0.isCrowd } + raw.filter(\.isCrowd)
                objectCount += gts.count { !$0.isCrowd }
                let dts = Array(stablySortedByScore(predictions.filter { $0.image == image && $0.classID == c }).prefix(maxDetections))
                guard !dts.isEmpty else { continue }
                let ious = dts.map { d in gts.map { d.box.iou($0.box, crowd: $0.isCrowd) } }
                for (t, threshold) in iouThresholds.enumerated() {
                    var gtMatched = [Bool](repeating: false, count: gts.count)
                    for (d, det) in dts.enumerated() {
                        var best = min(threshold, 1 - 1e-10), m = -1
                        for (g, gt) in gts.enumerated() {
                            if gtMatched[g] && !gt.isCrowd { continue }
                            // Matched a real object already, and only crowds are left.
                            if m > -1 && !gts[m].isCrowd && gt.isCrowd { break }
                            if ious[d][g] < best { continue }
                            best = ious[d][g]; m = g
                        }
                        if m > -1 { gtMatched[m] = true }
                        records[t].append((det.score, m > -1, m > -1 && gts[m].isCrowd))
                    }
                }
            }
            guard objectCount > 0 else { continue }
            var aps: [Double] = []
            for t in iouThresholds.indices {
                aps.append(averagePrecision(records[t], objects: objectCount))
            }
            let result = ClassResult(classID: c, objects: objectCount, ap50: aps[0], ap5095: aps.reduce(0, +) / Double(aps.count))
            perClass.append(result)
            all50.append(aps[0]); allMean += aps
        }
        let mean = { (v: [Double]) in v.isEmpty ? -1 : v.reduce(0, +) / Double(v.count) }
        return Report(perClass: perClass, map50: mean(all50), map5095: mean(allMean))
    }

    /// By decreasing score, ties in input order (NumPy's mergesort on -score).
    static func stablySortedByScore(_ p: [Prediction]) -> [Prediction] {
        p.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }.map(\.element)
    }

    /// COCO's interpolated AP: precision made non-increasing from the right, read at recall
    /// 0, 0.01, ..., 1 (first point with recall >= r), 0 where recall never gets there.
    static func averagePrecision(_ records: [(score: Double, matched: Bool, ignored: Bool)], objects: Int) -> Double {
        let ordered = records.enumerated().sorted {
            $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset
        }.map(\.element).filter { !$0.ignored }
        var tp = 0.0, fp = 0.0
        var recall: [Double] = [], precision: [Double] = []
        for r in ordered {
            if r.matched { tp += 1 } else { fp += 1 }
            recall.append(tp / Double(objects))
            precision.append(tp / (tp + fp + Double.ulpOfOne))
        }
        if precision.count > 1 {
            for i in stride(from: precision.count - 1, to: 0, by: -1) where precision[i] > precision[i - 1] { precision[i - 1] = precision[i] }
        }
        var sum = 0.0
        for r in recallThresholds {
            // searchsorted(recall, r, side="left")
            var lo = 0, hi = recall.count
            while lo < hi { let mid = (lo + hi) / 2; if recall[mid] < r { lo = mid + 1 } else { hi = mid } }
            if lo < precision.count { sum += precision[lo] }
        }
        return sum / 101
    }
}
