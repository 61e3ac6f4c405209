import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import XCTest
@testable import GraftTransfer

/// The one job path: stores cut at any layer of any backbone fit and load back as bundles of the
/// right input kind; incomplete stores are refused; tiny data sets never leave training empty.
final class JobPathTests: XCTestCase {
    var tmp: URL!
    override func setUp() { tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-job-\(UUID().uuidString)") }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    /// Two classes of digits ("0" and "1"), 20 items each.
    func digits() throws -> any Dataset {
        let d = try BuiltinDatasets.digits()
        let picked = Splitter.sample(perClass: 20, labels: d.labels, seed: 1).filter { d.label(at: $0) < 2 }
        return TwoClasses(base: Subset(d, indices: picked))
    }

    /// A view that lists only the classes its items have.
    struct TwoClasses: Dataset {
        let base: any Dataset
        var count: Int { base.count }
        var classNames: [String] { ["0", "1"] }
        var kind: DataKind { base.kind }
        func label(at index: Int) -> Int { base.label(at: index) }
        func sourceID(at index: Int) -> String { base.sourceID(at: index) }
        func item(at index: Int) throws -> DataItem { try base.item(at: index) }
    }

    func reviews() throws -> any Dataset {
        let d = try BuiltinDatasets.rottenTomatoes()
        return Subset(d, indices: Splitter.sample(perClass: 12, labels: d.labels, seed: 1))
    }

    /// extract at `cut` -> fit -> bundle -> `TrainedModel`: the model reads the backbone's input kind and
    /// scores a batch exactly as the head scores the stored rows.
    func checkStoreFitsAndLoads(_ spec: BackboneSpec, cut: String, pool: FeaturePooling, data: any Dataset) throws {
        let extractor = try FeatureExtractor(backbone: Backbones.load(spec), cut: cut, pool: pool)
        let storeURL = tmp.appendingPathComponent("store-\(cut)")
        let store = try FeatureStages.extract(extractor, dataset: data, indices: nil, to: storeURL, batchSize: 8, shardSize: 16)
        XCTAssertEqual(store.manifest.backbone, spec, "the store records its backbone")
        let rows = try FeatureStages.rows(of: store)
        let fit = try FeatureStages.fit(.logisticRegression, C: 1, x: rows.x, labels: rows.labels, classNames: store.classNames)
        let manifest = FeatureStages.manifest(task: ClassificationTask(), head: .logisticRegression, C: 1, backbone: try XCTUnwrap(store.manifest.backbone),
                                              source: store.source, classNames: store.classNames, fit: fit, examples: rows.labels.count)
        let bundle = tmp.appendingPathComponent("bundle-\(cut)")
        try BundleStore.save(manifest, head: fit.head, to: bundle)

        let model = try TrainedModel(bundle: bundle)
        XCTAssertEqual(model.input, spec.input)
        XCTAssertEqual(model.manifest.source?.layer, cut)
        let loader = BatchLoader(dataset: data, indices: Array(0..<4), preprocessing: extractor.preprocessing ?? Preprocessing(inputSize: 1),
                                 options: .init(batchSize: 4))
        let batch = try XCTUnwrap(try loader.next())
        let got = try model.probabilities(batch)
        let firstRows = try FeatureMatrix(rows: 4, columns: store.source.dimension, values: Array(rows.x.values.prefix(4 * store.source.dimension)))
        let expected = try fit.head.classScores(firstRows)
        for r in 0..<4 {
            for c in 0..<2 { XCTAssertEqual(got[r][c], expected.row(r)[expected.row(r).startIndex + c], accuracy: 1e-4) }
        }
    }

    /// The bug of 0.1: a store cut at `layer4` of a CNN was taken for text. Here it stays an image bundle.
    func testCNNStoreCutAtLayer4FitsAsAnImageBundle() throws {
        let resnet = BackboneSpec(input: .image, model: "resnet18", architecture: "resnet18", pretrained: false)
        try checkStoreFitsAndLoads(resnet, cut: "layer4", pool: .avg, data: try digits())
        try checkStoreFitsAndLoads(resnet, cut: "layer2", pool: .max, data: try digits())
    }

    func testEfficientNetBlockAndTextLayerStoresFit() throws {
        try checkStoreFitsAndLoads(.efficientNetLite0, cut: "block5", pool: .avg, data: try digits())
        try checkStoreFitsAndLoads(.miniLM, cut: "layer3", pool: .avg, data: try reviews())
        try checkStoreFitsAndLoads(.miniLM, cut: "pooled", pool: .avg, data: try reviews())
    }

    /// #15 item 1: a store whose extraction was stopped is refused, saying how to resume, unless asked for.
    func testIncompleteStoreIsRefusedUnlessAllowed() throws {
        let spec = BackboneSpec(input: .image, model: "small-cnn", architecture: "small-cnn", pretrained: false)
        let extractor = try FeatureExtractor(backbone: Backbones.load(spec, outputs: 2), cut: "conv2", pool: .avg)
        final class Calls: @unchecked Sendable { var n = 0 }
        let calls = Calls()
        let url = tmp.appendingPathComponent("partial")
        XCTAssertThrowsError(try FeatureStages.extract(extractor, dataset: try digits(), indices: nil, to: url, batchSize: 8, shardSize: 16,
                                                       isCancelled: { calls.n += 1; return calls.n > 3 }))
        let store = try FeatureStore.open(url)
        XCTAssertFalse(store.manifest.complete)
        XCTAssertThrowsError(try FeatureStages.rows(of: store)) { e in
            XCTAssertTrue("\(e)".contains("incomplete") && "\(e)".contains("resume") && "\(e)".contains("--allow-partial"), "\(e)")
        }
        XCTAssertEqual(try FeatureStages.rows(of: store, allowPartial: true).labels.count, store.count)
    }

    /// 20 items per class, the CLI's defaults (10 validation per class, 2,000 test): training is never
    /// empty, and the held-out parts scale to the data.
    func testTinyDataKeepsATrainingSplit() throws {
        let source = DataSource(name: "tiny", train: try digits())
        let split = try ExperimentSplit.make(source, perClass: nil, validationPerClass: 10, testCount: 2000, seed: 0)
        XCTAssertEqual(split.test.count, 8)         // a fifth under 500 items
        XCTAssertEqual(split.validation.count, 16)  // at most half of the 16 left per class
        XCTAssertEqual(split.train.count, 16)
        XCTAssertTrue(Set(split.train).isDisjoint(with: split.validation) && Set(split.train).isDisjoint(with: split.test))
        // A separate validation set is used whole and nothing is held out of the training data for it.
        let withValidation = DataSource(name: "tiny", train: try digits(), validation: try digits())
        let s2 = try ExperimentSplit.make(withValidation, perClass: nil, validationPerClass: 10, testCount: 0, seed: 0)
        XCTAssertEqual(s2.train.count, 40)
        XCTAssertEqual(s2.validation, Array(40..<80))
    }

    /// A whole job on tiny data, fine-tuning: it trains, validates, tests, and its bundle records the strategy.
    func testFineTuneJobOnTinyData() throws {
        var o = JobOptions(workDirectory: tmp.appendingPathComponent("work"))
        o.bundle = tmp.appendingPathComponent("ft")
        o.training.epochs = 1
        o.training.batchSize = 8
        let job = TransferJob(data: DataSource(name: "tiny", train: try digits()), backbone: .efficientNetLite0,
                              strategy: .fineTune(unfreeze: 1), options: o)
        let r = try job.run()
        // The default validation (`.auto`): a third of the 16 items per class left after the test hold-out.
        XCTAssertEqual(r.split.counts, .init(train: 22, validation: 10, test: 8, testFromSeparateSet: false))
        XCTAssertTrue(r.recipe?.hasPrefix("LP-FT") == true)
        XCTAssertNotNil(r.test)
        let model = try TrainedModel(bundle: tmp.appendingPathComponent("ft"))
        XCTAssertEqual(model.manifest.strategy, .fineTune(unfreeze: 1))
        XCTAssertEqual(model.manifest.backbone, .efficientNetLite0)
        XCTAssertEqual(model.manifest.notes["recipe"], r.recipe)
        XCTAssertEqual(model.manifest.notes["augmentation"], "flip only (small images)")  // 8x8 digits for a 224 network
    }

    /// Issue 21: the warm-started probe is epoch 0's candidate. A learning rate that wrecks the network
    /// cannot beat it on validation, so the job returns the probe and says so.
    func testFineTuningNeverEndsBelowItsProbe() throws {
        var o = JobOptions(workDirectory: tmp.appendingPathComponent("work"))
        o.bundle = tmp.appendingPathComponent("ft")
        o.training.epochs = 2
        o.training.batchSize = 8
        o.training.learningRate = 50
        o.training.trunkLearningRateScale = 1
        o.training.patience = 0
        let job = TransferJob(data: DataSource(name: "tiny", train: try digits()), backbone: .efficientNetLite0,
                              strategy: .fineTune(unfreeze: 1), options: o)
        let r = try job.run()
        let probe = try XCTUnwrap(r.probe?.validationAccuracy)
        let training = try XCTUnwrap(r.training)
        XCTAssertEqual(training.history.count, 2)
        XCTAssertTrue(training.history.allSatisfy { ($0.validationAccuracy ?? 1) <= probe })
        XCTAssertTrue(training.keptStart)
        XCTAssertNil(training.bestEpoch)
        XCTAssertEqual(r.recipe, "LP-FT, probe kept")
        // The returned network is the probe, fitted once more on the training + validation items (the 40
        // less the 8 the job holds out for test).
        XCTAssertEqual(r.probe?.refitWithValidation, true)
        XCTAssertEqual(r.probe?.examples, 32)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(r.validation).accuracy, probe)
        let model = try TrainedModel(bundle: tmp.appendingPathComponent("ft"))
        XCTAssertEqual(model.manifest.notes["keptWarmStart"], "true")
    }
}
