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
    public var fineTuning: TrainingOptions
    public var scratchTraining: TrainingOptions
    /// Where feature stores and checkpoints go.
    public var workDirectory: URL
    public var progress: ProgressHandler?
    public var log: @Sendable (String) -> Void = { _ in }

    public init(workDirectory: URL) {
        self.workDirectory = workDirectory
        var ft = TrainingOptions()
        // LP-FT (Kumar et al. 2022): the head starts from the logistic-regression
        // probe when one was fitted, so a gentle AdamW rate adapts the trunk
        // instead of destroying it while a random head settles.
        ft.epochs = 5; ft.optimizer = .adamw; ft.learningRate = 5e-4; ft.trunkLearningRateScale = 0.2
        ft.batchSize = 16; ft.patience = 2; ft.weightDecay = 0.01
        fineTuning = ft
        var sc = TrainingOptions()
        sc.epochs = 15; sc.learningRate = 0.05; sc.patience = 5; sc.augment = false
        scratchTraining = sc
    }

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
            let network: ClassifierNetwork
            if source.kind == .image {
                network = ImageClassifierNetwork(backbone: SmallCNN(inputSize: 32, classes: classes, seed: seed), classes: classes, seed: seed)
            } else {
                let embedder = try SentenceEmbedder.pretrained(modelName)
                try randomize(embedder.bert, seed: seed)
                network = TextClassifierNetwork(embedder: embedder, classes: classes, unfreezeLayers: embedder.bert.layers.count, seed: seed)
                embedder.bert.unfreeze()
            }
            let trainer = Trainer(network: network, options: scratchTraining, progress: progress)
            let fit = try trainer.fit(dataset: source.train, train: split.train, validation: split.validation,
                                      checkpoint: workDirectory.appendingPathComponent("scratch"))
            let seconds = Date().timeIntervalSince(start)
            let (report, predictions) = try ItemPredictions.predict(network, dataset: testSet, indices: split.test, progress: progress)
            result.outcomes.append(StrategyOutcome(strategy: "from scratch", detail: source.kind == .image ? "small CNN" : "random-init \(modelName)",
                                                   accuracy: report.accuracy, balancedAccuracy: report.balancedAccuracy, trainSeconds: seconds,
                                                   trainableParameters: fit.trainableParameters, report: report, history: fit.history,
                                                   predictions: predictions))
        }

        let heads = strategies.filter { $0 == .logreg || $0 == .svm }
        var probe: LinearHead?, lastFit: HeadFit?
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
                defer { if h == .logreg, let fit = lastFit { probe = fit.head } }
                let choice: HeadChoice = h == .logreg ? .logisticRegression() : .linearSVM()
                log("fitting \(choice.name) ...")
                let fitStart = Date()
                let fit = try choice.fit(xTrain, labels: train.labels, seed: seed)
                lastFit = fit
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
            let network: ClassifierNetwork
            if source.kind == .image {
                let backbone = try ImageModels.pretrained(modelName)
                let n = ImageClassifierNetwork(backbone: backbone, classes: classes, seed: seed)
                backbone.freezeAllButLast(unfreeze)
                if let probe { try warmStart(n.head, from: probe) }
                network = n
            } else {
                network = TextClassifierNetwork(embedder: try SentenceEmbedder.pretrained(modelName), classes: classes, unfreezeLayers: unfreeze, seed: seed)
            }
            let trainer = Trainer(network: network, options: fineTuning, progress: progress)
            let fit = try trainer.fit(dataset: source.train, train: split.train, validation: split.validation,
                                      checkpoint: workDirectory.appendingPathComponent("finetune"))
            let seconds = Date().timeIntervalSince(start)
            let (report, predictions) = try ItemPredictions.predict(network, dataset: testSet, indices: split.test, progress: progress)
            result.outcomes.append(StrategyOutcome(strategy: "fine-tune", detail: probe != nil && source.kind == .image ? "last \(unfreeze) + head, LP-FT" : "last \(unfreeze) + head", accuracy: report.accuracy,
                                                   balancedAccuracy: report.balancedAccuracy, trainSeconds: seconds,
                                                   trainableParameters: fit.trainableParameters, report: report, history: fit.history,
                                                   predictions: predictions))
        }
        return result
    }

    /// Copies a linear head fitted on standardised features into a network's
    /// classifier: W' = W / scale, b' = b - W' mean, so it scores raw features.
    func warmStart(_ linear: Linear, from head: LinearHead) throws {
        let (k, d) = (linear.outFeatures, linear.inFeatures)
        guard head.featureCount == d, head.classes == Array(0..<k) else { return }
        var w = head.weights, b = head.bias
        if let s = head.standardization {
            for c in 0..<k {
                for j in 0..<d { w[c * d + j] /= s.scale[j]; b[c] -= w[c * d + j] * s.mean[j] }
            }
        }
        try linear.weight.assign(Tensor(shape: [k, d], values: w))
        if let bias = linear.bias { try bias.assign(Tensor(shape: [k], values: b)) }
    }

    func makeExtractor(_ model: String, kind: DataKind) throws -> any FeatureExtractor {
        switch kind {
        case .image: return try ImageFeatureExtractor(backbone: ImageModels.pretrained(model))
        case .text: return try TextFeatureExtractor(embedder: SentenceEmbedder.pretrained(model))
        }
    }

    /// Re-draws every weight (N(0, 0.02) as BERT's initialiser; norms reset to 1/0).
    func randomize(_ module: Module, seed: UInt64) throws {
        var g = SeededGenerator(seed: seed &+ 0x5C)
        for (key, p) in module.namedParameters() {
            let fresh: Tensor = key.hasSuffix("LayerNorm.weight") ? .ones(p.shape)
                : (key.hasSuffix("bias") || key.hasSuffix("LayerNorm.bias")) ? .zeros(p.shape)
                : .randn(p.shape, std: 0.02, generator: &g)
            try p.assign(fresh)
        }
    }
}
