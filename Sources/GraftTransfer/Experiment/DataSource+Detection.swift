import Foundation
import GraftData

extension DataSource {
    /// Detection data named on the command line (`--task detect`):
    /// - a built-in detection set (`DetectionSets.builtinNames`, made on first use);
    /// - a YOLO folder (`images/`, `labels/`, `classes.txt`);
    /// - a folder of YOLO folders `train/` and optionally `val/` (or `validation/`) and `test/`, which become the
    ///   training, validation and test sets (classes from `train/`);
    /// - a COCO detection JSON (images beside it).
    /// `validation` and `test` name further detection sets the same way (their classes must be the training set's).
    public static func detection(_ spec: String, validation: String? = nil, test: String? = nil) throws -> DataSource {
        var base = try detectionParts(spec)
        func other(_ spec: String?, _ flag: String) throws -> DetectionDataset? {
            guard let spec else { return nil }
            let parts = try detectionParts(spec)
            guard parts.train.classNames == base.train.classNames else {
                throw TransferError.unsupported("\(flag) \(spec) has the classes \(parts.train.classNames) but the training data \(base.train.classNames)")
            }
            return parts.train
        }
        if let v = try other(validation, "--validation-data") { base.validation = v }
        if let t = try other(test, "--test-data") { base.test = t }
        return DataSource(name: base.name, train: base.train, test: base.test, validation: base.validation)
    }

    /// True when `spec` names detection data as `detection(_:)` reads it (a built-in detection set, a YOLO folder or a
    /// folder of them, a COCO `.json`) rather than classification data: what `graft quantize` checks to calibrate a
    /// detector on the images of a detection set.
    public static func isDetectionData(_ spec: String) -> Bool {
        if DetectionSets.builtinNames.contains(spec) { return true }
        let url = URL(fileURLWithPath: spec)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else { return false }
        guard isDir.boolValue else { return url.pathExtension.lowercased() == "json" }
        return ["images", "train/images"].contains { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    private static func detectionParts(_ spec: String) throws -> (name: String, train: DetectionDataset, validation: DetectionDataset?, test: DetectionDataset?) {
        if DetectionSets.builtinNames.contains(spec) {
            let parts = try detectionParts(DetectionSets.make(spec).path)
            return (spec, parts.train, parts.validation, parts.test)
        }
        let url = URL(fileURLWithPath: spec)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw TransferError.emptyData("'\(spec)' is neither a built-in detection set (\(DetectionSets.builtinNames.joined(separator: ", "))) nor a YOLO folder or COCO JSON")
        }
        guard isDir.boolValue else { return (url.lastPathComponent, try DetectionDataset.coco(url), nil, nil) }
        func has(_ name: String) -> Bool { fm.fileExists(atPath: url.appendingPathComponent(name).path) }
        if !has("images"), has("train") {
            let train = try DetectionDataset.yolo(url.appendingPathComponent("train"))
            let validationName = ["val", "validation"].first(where: has)
            let validation = try validationName.map { try DetectionDataset.yolo(url.appendingPathComponent($0), classNames: train.classNames) }
            let test = has("test") ? try DetectionDataset.yolo(url.appendingPathComponent("test"), classNames: train.classNames) : nil
            return (url.lastPathComponent, train, validation, test)
        }
        return (url.lastPathComponent, try DetectionDataset.yolo(url), nil, nil)
    }
}
