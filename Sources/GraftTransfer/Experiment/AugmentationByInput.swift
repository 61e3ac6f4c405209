import GraftData

extension NetworkRecipe {
    /// Turns off random resized crop and colour jitter when the training images are small against the
    /// network's input (`TrainingOptions.adaptsAugmentationToInput`): the median shorter side of up to 16
    /// training images at most a third of `inputSize`. True when it did.
    mutating func adaptAugmentation(to dataset: any Dataset, indices: [Int], inputSize: Int?) throws -> Bool {
        guard options.augment, options.adaptsAugmentationToInput, options.randomResizedCrop || options.colorJitter,
              dataset.kind == .image, let inputSize, inputSize > 1, !indices.isEmpty else { return false }
        let step = max(1, indices.count / 16)
        var sides: [Int] = []
        for i in stride(from: 0, to: indices.count, by: step).prefix(16) {
            if case let .image(image) = try dataset.item(at: indices[i]) { sides.append(min(image.width, image.height)) }
        }
        guard !sides.isEmpty, sides.sorted()[sides.count / 2] * 3 <= inputSize else { return false }
        options.randomResizedCrop = false
        options.colorJitter = false
        return true
    }
}
