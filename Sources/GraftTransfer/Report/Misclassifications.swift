import Foundation
import GraftData

/// Finds the mistakes a model was surest of: the examples worth looking at
/// first (label noise, look-alike classes, a crop that hides the object).
public enum Misclassifications {
    /// Longest text snippet kept per example.
    public static let snippetLength = 280

    /// The `k` wrong predictions with the highest confidence, items loaded from
    /// `dataset` for thumbnails (images) or snippets (texts).
    /// - Parameters:
    ///   - predictedClassNames: names of the model's classes when they differ
    ///     from the data set's (a bundle); a mistake is a differing name.
    ///   - thumbnailSide: images larger than this are shrunk to fit (aspect kept).
    public static func mostConfident(_ p: ItemPredictions, dataset: any Dataset, predictedClassNames: [String]? = nil,
                                     k: Int = 12, thumbnailSide: Int = 96) -> [MisclassifiedExample] {
        let truthNames = dataset.classNames
        let modelNames = predictedClassNames ?? truthNames
        func name(_ label: Int, _ names: [String]) -> String { label >= 0 && label < names.count ? names[label] : "#\(label)" }
        let wrong = (0..<p.count).filter { name(p.truth[$0], truthNames) != name(p.predicted[$0], modelNames) }
        let ranked = wrong.sorted { p.confidence[$0] != p.confidence[$1] ? p.confidence[$0] > p.confidence[$1] : $0 < $1 }
        return ranked.prefix(max(0, k)).map { row in
            var example = MisclassifiedExample(id: p.ids[row], truth: name(p.truth[row], truthNames),
                                               predicted: name(p.predicted[row], modelNames), confidence: Double(p.confidence[row]))
            let index = p.indices[row]
            if index >= 0 && index < dataset.count, let item = try? dataset.item(at: index) {
                switch item {
                case .image(let image): example.thumbnailPNG = PNGEncoder.encode(thumbnail(image, side: thumbnailSide))
                case .text(let text): example.text = snippet(text)
                }
            }
            return example
        }
    }

    /// Runs `network` over `indices` of `dataset` and returns its `k` most confident mistakes.
    public static func mostConfident(network: TaskNetwork, dataset: any Dataset, indices: [Int], k: Int = 12) throws -> [MisclassifiedExample] {
        mostConfident(try ItemPredictions.predict(network, dataset: dataset, indices: indices).predictions, dataset: dataset, k: k)
    }

    /// Runs a bundle over `indices` of `dataset` (matching classes by name) and returns its `k` most confident mistakes.
    public static func mostConfident(classifier: TrainedClassifier, dataset: any Dataset, indices: [Int], k: Int = 12) throws -> [MisclassifiedExample] {
        mostConfident(try ItemPredictions.predict(classifier, dataset: dataset, indices: indices), dataset: dataset,
                      predictedClassNames: classifier.classNames, k: k)
    }

    /// `image` shrunk so its longer side is at most `side`; small images stay as they are.
    public static func thumbnail(_ image: RGBImage, side: Int) -> RGBImage {
        let longer = max(image.width, image.height)
        guard side > 0, longer > side else { return image }
        let w = max(1, Int((Double(image.width) * Double(side) / Double(longer)).rounded()))
        let h = max(1, Int((Double(image.height) * Double(side) / Double(longer)).rounded()))
        return Resampler.resize(image, width: w, height: h)
    }

    static func snippet(_ text: String) -> String {
        text.count <= snippetLength ? text : String(text.prefix(snippetLength - 1)) + "…"
    }
}
