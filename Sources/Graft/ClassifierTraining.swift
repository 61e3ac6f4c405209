import Foundation

/// The synchronous pipeline behind `ImageClassifier.train` and
/// `TextClassifier.train`, composed from the transfer layer: split, extract
/// and fit (feature extraction) or train a network (fine-tuning, from
/// scratch), write a bundle, load it back. Runs on the job's thread.
enum ClassifierTraining {
    static func run(task: BundleManifest.Task, data: TrainingData, parameters p: Parameters,
                    context: TrainingJobContext) throws -> (ClassifierCore, Metrics?) {
        context.report(TrainingProgress(phase: .preparing))
        try p.validate()
        let kind: DataKind = task == .image ? .image : .text
        let dataset = try data.dataset(for: kind)
        let backbone = p.backbone ?? (task == .image ? .efficientNetLite0 : .miniLM)
        guard backbone.isImageModel == (task == .image) else {
            throw GraftError.wrongBackbone(task: "\(task.rawValue) classifier", backbone: backbone.description)
        }
        let counts = dataset.classCounts
        guard counts.filter({ $0 > 0 }).count >= 2 else {
            throw TransferError.singleClass("the training data has only the class '\(dataset.classNames.first ?? "")'")
        }
        let split = p.validation.split(labels: dataset.labels, seed: p.seed)
        let job = (p.workingDirectory ?? FileManager.default.temporaryDirectory)
            .appendingPathComponent("graft-job-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: job, withIntermediateDirectories: true)
        do {
            let bundle = job.appendingPathComponent("bundle")
            let validation: Metrics?
            switch p.strategy {
            case let .featureExtraction(head):
                validation = try fitHead(head, task: task, backbone: backbone, dataset: dataset, split: split, parameters: p,
                                         job: job, bundle: bundle, context: context)
            case .fineTune, .fromScratch:
                validation = try trainNetwork(task: task, backbone: backbone, dataset: dataset, split: split, parameters: p,
                                              bundle: bundle, checkpoint: job.appendingPathComponent("checkpoint"), context: context)
            }
            try context.checkCancellation()
            context.report(TrainingProgress(phase: .saving))
            // Only the bundle stays; it lives as long as the model does.
            for item in (try? FileManager.default.contentsOfDirectory(atPath: job.path)) ?? [] where item != "bundle" {
                try? FileManager.default.removeItem(at: job.appendingPathComponent(item))
            }
            return (try ClassifierCore(bundle: bundle, task: task, owning: job), validation)
        } catch {
            try? FileManager.default.removeItem(at: job)
            throw error
        }
    }

    /// Feature extraction: features of the training split, a linear head, its validation metrics.
    static func fitHead(_ head: Strategy.Head, task: BundleManifest.Task, backbone: Backbone, dataset: any Dataset,
                        split: (train: [Int], validation: [Int]), parameters p: Parameters, job: URL, bundle: URL,
                        context: TrainingJobContext) throws -> Metrics? {
        let extractor: any FeatureExtractor
        var manifest: BundleManifest
        if task == .image {
            let ex = try ImageFeatureExtractor(backbone: loadImageBackbone(backbone))
            extractor = ex
            manifest = BundleManifest(task: .image, strategy: .featureExtraction, model: backbone.name,
                                      architecture: ex.backbone.architecture, classNames: dataset.classNames)
        } else {
            let ex = try TextFeatureExtractor(embedder: loadEmbedder(backbone))
            extractor = ex
            manifest = BundleManifest(task: .text, strategy: .featureExtraction, model: ex.embedder.name,
                                      architecture: "bert", classNames: dataset.classNames)
        }
        manifest.source = extractor.source
        manifest.weights = backbone.weights?.path
        let extraction = FeatureExtraction(batchSize: p.batchSize, overwrite: true, progress: context.handler)
        func features(_ indices: [Int], _ name: String) throws -> (FeatureMatrix, [Int]) {
            let store = try extraction.run(extractor: extractor, dataset: dataset, indices: indices,
                                           to: job.appendingPathComponent(name), isCancelled: context.isCancelled)
            let rows = try store.readAll()
            return (try FeatureMatrix(rows: rows.count, columns: store.source.dimension, values: rows.features), rows.labels)
        }
        let (x, labels) = try features(split.train, "features-train")
        try context.checkCancellation()
        context.report(TrainingProgress(phase: .fitting))
        let choice: HeadChoice = head == .linearSVM ? .linearSVM() : .logisticRegression()
        let fit = try choice.fit(x, labels: labels, seed: p.seed)
        try context.checkCancellation()
        var metrics: Metrics?
        if !split.validation.isEmpty {
            let (xv, lv) = try features(split.validation, "features-validation")
            metrics = Metrics(report: try fit.head.evaluate(xv, labels: lv), names: dataset.classNames)
        }
        manifest.notes = ["C": "\(fit.head.C)", "examples": "\(labels.count)",
                          "fitSeconds": String(format: "%.2f", fit.summary.seconds)]
        if let metrics { manifest.notes["validationAccuracy"] = Metrics.fixed(metrics.accuracy) }
        try context.checkCancellation()
        try BundleStore.save(manifest, head: fit.head, to: bundle)
        return metrics
    }

    /// Fine-tuning or training from scratch, then validation metrics of the kept weights.
    static func trainNetwork(task: BundleManifest.Task, backbone: Backbone, dataset: any Dataset,
                             split: (train: [Int], validation: [Int]), parameters p: Parameters, bundle: URL, checkpoint: URL,
                             context: TrainingJobContext) throws -> Metrics? {
        let classes = dataset.classNames.count
        let scratch = p.strategy == .fromScratch
        var unfreeze = 0
        if case let .fineTune(k) = p.strategy { unfreeze = k }
        // The recipe of `graft finetune` / `graft compare` (LP-FT), changed only where the parameters say.
        let recipe = NetworkRecipe(scratch ? .fromScratch : .fineTune(unfreeze: unfreeze), kind: task == .image ? .image : .text,
                                   overrides: p.trainingOverrides)
        let network: ClassifierNetwork
        var manifest: BundleManifest
        if task == .image {
            let trunk = scratch ? try recipe.scratchImageBackbone(nil, classes: classes) : try loadImageBackbone(backbone)
            network = recipe.imageNetwork(trunk, classes: classes)
            manifest = BundleManifest(task: .image, strategy: scratch ? .fromScratch : .fineTune, model: scratch ? "small-cnn" : backbone.name,
                                      architecture: trunk.architecture, classNames: dataset.classNames)
            manifest.inputSize = trunk.preprocessing.inputSize
        } else {
            let embedder = try loadEmbedder(backbone)
            network = try recipe.textNetwork(embedder, classes: classes)
            manifest = BundleManifest(task: .text, strategy: scratch ? .fromScratch : .fineTune, model: embedder.name,
                                      architecture: "bert", classNames: dataset.classNames)
            manifest.weights = backbone.weights?.path
        }
        let trained = try recipe.train(network, dataset: dataset, train: split.train, validation: split.validation,
                                       checkpoint: checkpoint, progress: context.handler, isCancelled: context.isCancelled)
        try context.checkCancellation()
        var metrics: Metrics?
        if !split.validation.isEmpty {
            let report = try Evaluation.report(network, dataset: dataset, indices: split.validation, progress: context.handler)
            metrics = Metrics(report: report, names: dataset.classNames)
            manifest.notes["validationAccuracy"] = Metrics.fixed(report.accuracy)
        }
        manifest.record(trained)
        try context.checkCancellation()
        try BundleStore.save(manifest, network: network.module, to: bundle)
        return metrics
    }

    static func loadImageBackbone(_ b: Backbone) throws -> any ImageBackbone {
        if case let .custom(weights, architecture) = b {
            return try ImageModels.pretrained(architecture, weights: weights, architecture: architecture)
        }
        return try ImageModels.pretrained(b.name)
    }

    static func loadEmbedder(_ b: Backbone) throws -> SentenceEmbedder {
        if let weights = b.weights { return try SentenceEmbedder(directory: weights) }
        return try SentenceEmbedder.pretrained(b.name)
    }
}
