import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftNN
import GraftTensor

/// The article's claim made measurable: on one seeded split, train from
/// scratch, fit logistic regression and a linear SVM on pretrained features,
/// and fine-tune the last K blocks; report accuracy, time and trainable size.
public struct Comparison {
    public enum Strategy: String, CaseIterable, Sendable { case scratch, logreg, svm, finetune }

    public var data: String = "fashion-mnist"
    /// Zoo name; nil picks the default for the data's kind.
    public var model: String?
    public var perClass: Int? = 20
    public var validationPerClass = 5
    public var testCount = 1000
    public var unfreeze = 2
    public var seed: UInt64 = 0
    public var strategies = Strategy.allCases
    /// Changes to `NetworkRecipe`'s defaults for fine-tuning (LP-FT) and for training from scratch.
    public var fineTuning = TrainingOverrides()
    public var scratchTraining = TrainingOverrides()
    /// Where feature stores and checkpoints go.
    public var workDirectory: URL
    public var progress: ProgressHandler?
    public var log: @Sendable (String) -> Void = { _ in }

    public init(workDirectory: URL) { self.workDirectory = workDirectory }

    public func run() throws -> ComparisonResult {
        let source = try DataSource.resolve(data)
        let split = try ExperimentSplit.make(source, perClass: perClass, validationPerClass: validationPerClass, testCount: testCount, seed: seed)
        let testSet = source.test ?? source.train
        let modelName = model ?? (source.kind == .image ? "efficientnet-lite0" : "all-minilm-l6-v2")
        log("data \(source.name): \(split.train.count) train, \(split.validation.count) validation, \(split.test.count) test; model \(modelName)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        var result = ComparisonResult(data: source.name, model: modelName, classNames: source.classNames, trainCount: split.train.count,
                                      validationCount: split.validation.count, testCount: split.test.count, perClass: perClass,
                                      seed: seed, outcomes: [])
        let classes = source.classNames.count
        let labelled = (split.train + split.validation).sorted()

        if strategies.contains(.scratch) {
            log("from scratch ...")
            let start = Date()
            var overrides = scratchTraining
            overrides.seed = overrides.seed ?? seed
            let recipe = NetworkRecipe(.fromScratch, kind: source.kind, overrides: overrides)
            let network: ClassifierNetwork = source.kind == .image
                ? recipe.imageNetwork(try recipe.scratchImageBackbone(nil, classes: classes), classes: classes)
                : try recipe.textNetwork(SentenceEmbedder.pretrained(modelName), classes: classes)
            let fit = try recipe.train(network, dataset: source.train, train: split.train, validation: split.validation,
                                       checkpoint: workDirectory.appendingPathComponent("scratch"), progress: progress).training
            let seconds = Date().timeIntervalSince(start)
            let (report, predictions) = try ItemPredictions.predict(network, dataset: testSet, indices: split.test, progress: progress)
            result.outcomes.append(StrategyOutcome(strategy: "from scratch", detail: source.kind == .image ? "small CNN" : "random-init \(modelName)",
                                                   accuracy: report.accuracy, balancedAccuracy: report.balancedAccuracy, trainSeconds: seconds,
                                                   trainableParameters: fit.trainableParameters, report: report, history: fit.history,
                                                   predictions: predictions))
        }

        let heads = strategies.filter { $0 == .logreg || $0 == .svm }
        if !heads.isEmpty {
            log("feature extraction ...")
            let start = Date()
            let extractor = try makeExtractor(modelName, kind: source.kind)
            let extraction = FeatureExtraction(batchSize: 32, shardSize: 4096, overwrite: true, progress: progress)
            let trainStore = try extraction.run(extractor: extractor, dataset: source.train, indices: labelled,
                                                to: workDirectory.appendingPathComponent("features-train"))
            let extractSeconds = Date().timeIntervalSince(start)
            let testStore = try extraction.run(extractor: extractor, dataset: testSet, indices: split.test,
                                               to: workDirectory.appendingPathComponent("features-test"))
            let train = try trainStore.readAll(), test = try testStore.readAll()
            let xTrain = try FeatureMatrix(rows: train.count, columns: trainStore.source.dimension, values: train.features)
            let xTest = try FeatureMatrix(rows: test.count, columns: testStore.source.dimension, values: test.features)
            for h in heads {
                let choice: HeadChoice = h == .logreg ? .logisticRegression() : .linearSVM()
                log("fitting \(choice.name) ...")
                let fitStart = Date()
                let fit = try choice.fit(xTrain, labels: train.labels, seed: seed)
                let seconds = extractSeconds + Date().timeIntervalSince(fitStart)
                let report = try fit.head.evaluate(xTest, labels: test.labels)
                let predictions = try? ItemPredictions(head: fit.head, features: xTest, ids: test.ids, truth: test.labels,
                                                       dataset: testSet, among: split.test)
                result.outcomes.append(StrategyOutcome(strategy: "features + \(h == .logreg ? "logistic regression" : "linear SVM")",
                                                       detail: String(format: "C=%g", fit.head.C), accuracy: report.accuracy,
                                                       balancedAccuracy: report.balancedAccuracy, trainSeconds: seconds,
                                                       trainableParameters: fit.head.weights.count + fit.head.bias.count, report: report, history: nil,
                                                       predictions: predictions))
            }
        }

        if strategies.contains(.finetune) {
            log("fine-tuning the last \(unfreeze) blocks ...")
            let start = Date()
            var overrides = fineTuning
            overrides.seed = overrides.seed ?? seed
            let recipe = NetworkRecipe(.fineTune(unfreeze: unfreeze), kind: source.kind, overrides: overrides)
            let network: ClassifierNetwork = source.kind == .image
                ? recipe.imageNetwork(try ImageModels.pretrained(modelName), classes: classes)
                : try recipe.textNetwork(SentenceEmbedder.pretrained(modelName), classes: classes)
            let outcome = try recipe.train(network, dataset: source.train, train: split.train, validation: split.validation,
                                           checkpoint: workDirectory.appendingPathComponent("finetune"), progress: progress)
            let fit = outcome.training
            let seconds = Date().timeIntervalSince(start)
            let (report, predictions) = try ItemPredictions.predict(network, dataset: testSet, indices: split.test, progress: progress)
            result.outcomes.append(StrategyOutcome(strategy: "fine-tune", detail: "last \(unfreeze) + head, \(outcome.name)", accuracy: report.accuracy,
                                                   balancedAccuracy: report.balancedAccuracy, trainSeconds: seconds,
                                                   trainableParameters: fit.trainableParameters, report: report, history: fit.history,
                                                   predictions: predictions))
        }
        return result
    }

    func makeExtractor(_ model: String, kind: DataKind) throws -> any FeatureExtractor {
        switch kind {
        case .image: return try ImageFeatureExtractor(backbone: ImageModels.pretrained(model))
        case .text: return try TextFeatureExtractor(embedder: SentenceEmbedder.pretrained(model))
        }
    }
}
