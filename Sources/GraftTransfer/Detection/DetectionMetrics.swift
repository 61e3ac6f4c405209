import GraftHeads

/// Detection metrics of a model on labelled images (`graft evaluate`, `graft finetune --task detect`):
/// COCO's AP per class at IoU 0.5 and averaged over IoU 0.5:0.05:0.95 (`DetectionEvaluation`, equal to
/// pycocotools), and their means over the classes that have objects.
public struct DetectionMetrics: Codable, Sendable, Equatable {
    public struct PerClass: Codable, Sendable, Equatable {
        public var name: String
        public var objects: Int
        public var ap50: Double
        public var ap5095: Double
    }

    public var map50: Double
    public var map5095: Double
    public var images: Int
    public var objects: Int
    public var perClass: [PerClass]

    public init(_ report: DetectionEvaluation.Report, classNames: [String], images: Int) {
        map50 = report.map50
        map5095 = report.map5095
        self.images = images
        objects = report.perClass.reduce(0) { $0 + $1.objects }
        perClass = report.perClass.map {
            PerClass(name: $0.classID < classNames.count ? classNames[$0.classID] : "#\($0.classID)", objects: $0.objects,
                     ap50: $0.ap50, ap5095: $0.ap5095)
        }
    }
}
