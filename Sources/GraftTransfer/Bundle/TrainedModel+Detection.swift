import GraftModels

extension TrainedModel {
    /// The detector of a detection bundle (`graft finetune --task detect`): its fine-tuned network, its classes,
    /// and the training pipeline's stretch to the input (so `graft detect --bundle` sees what evaluation saw).
    public func detector() throws -> YoloDetector {
        guard case let .network(network) = scorer, let yolo = network as? YoloTaskNetwork else {
            throw TransferError.unsupported("\(url.path) is a \(manifest.task.rawValue) bundle, not a detector (graft finetune --task detect makes one)")
        }
        let detector = try YoloDetector(network: yolo.darknet, labels: classNames, resize: .stretch)
        detector.preprocessing = yolo.backbone.preprocessing
        return detector
    }
}
