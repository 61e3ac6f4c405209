import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftTransfer
import GraftWeights
import XCTest

/// Detection on the one job path: `TransferJob` with `DetectionTask` and `YoloBackbone`, as
/// `graft finetune --task detect` runs it, on the built-in `faces` set made into a scratch home.
final class DetectionJobTests: XCTestCase {
    /// The faces set, made once per test process (also the generator's test).
    static let faces: URL = {
        let home = try! DetectionFixtures.temporaryDirectory()
        return try! DetectionSets.make("faces", home: home, packages: DetectionFixtures.packages)
    }()

    func job(_ strategy: Strategy, work: URL, epochs: Int = 2) throws -> TransferJob {
        let data = try DataSource.detection(Self.faces.path)
        var o = JobOptions(workDirectory: work.appendingPathComponent("checkpoint"))
        o.bundle = work.appendingPathComponent("bundle")
        o.perClass = 8
        o.testCount = 8
        o.training.epochs = epochs
        o.training.batchSize = 4
        return TransferJob(data: data, task: DetectionTask(classNames: data.classNames, inputSize: 64), strategy: strategy, options: o)
    }

    func testFacesSetIsMadeDeterministicallyWithExactBoxes() throws {
        let data = try DataSource.detection(Self.faces.path)
        XCTAssertEqual(data.classNames, ["face"])
        XCTAssertEqual([data.train.count, data.validation?.count, data.test?.count], [120, 30, 50])
        let train = try XCTUnwrap(data.train as? DetectionDataset)
        let counts = train.items.map(\.objects.count)
        XCTAssertTrue(counts.allSatisfy { (1...3).contains($0) }, "\(counts)")
        // Every box is a pasted square of 24...88 pixels of the 256 canvas.
        for object in train.items.flatMap(\.objects) {
            XCTAssertEqual(object.box.width, object.box.height, accuracy: 1e-5)
            XCTAssertTrue((24...88).contains(Int((object.box.width * 256).rounded())), "\(object.box)")
        }
        // Made again elsewhere: the same bytes.
        let again = try DetectionSets.make("faces", home: DetectionFixtures.temporaryDirectory(), packages: DetectionFixtures.packages)
        for file in ["train/images/train-007.png", "train/labels/train-007.txt", "test/labels/test-049.txt"] {
            XCTAssertEqual(try Data(contentsOf: Self.faces.appendingPathComponent(file)), try Data(contentsOf: again.appendingPathComponent(file)), file)
        }
        // A pasted face is what the label says: the box's pixels are grey (the crops are), the photo around it need not be.
        let item = train.items[0], image = try ImageDecoder().decode(contentsOf: item.image)
        let b = item.objects[0].box
        let (cx, cy) = (Int((b.x + b.width / 2) * 256), Int((b.y + b.height / 2) * 256))
        let p = Array(image.pixels[((cy * 256 + cx) * 3)..<((cy * 256 + cx) * 3 + 3)])
        XCTAssertEqual(p[0], p[1]); XCTAssertEqual(p[1], p[2])
    }

    func testHeadsOnlyJobTrainsTheHeadsResumesBitIdenticallyAndItsBundleDetects() throws {
        let dir = try DetectionFixtures.temporaryDirectory()
        let reference = try job(.fineTune(unfreeze: 0), work: dir.appendingPathComponent("ref"), epochs: 3)
        let result = try reference.run()
        XCTAssertEqual(result.manifest.task, .detection)
        XCTAssertEqual(result.manifest.classNames, ["face"])
        XCTAssertEqual(result.manifest.inputSize, 64)
        XCTAssertEqual(result.split.counts.train, 8)
        XCTAssertEqual(result.split.counts.validation, 30)
        // Only the two new 1x1 heads train: 512 -> 18 and 256 -> 18 filters, with biases.
        XCTAssertEqual(result.trainableParameters, 512 * 18 + 18 + 256 * 18 + 18)
        XCTAssertEqual(result.training?.history.count, 3)
        XCTAssertNotNil(result.training?.history.last?.validationAccuracy)
        guard case let .detection(test)? = result.testMetrics else { return XCTFail("no detection metrics: \(String(describing: result.testMetrics))") }
        XCTAssertEqual(test.images, 8)
        XCTAssertEqual(test.perClass.map(\.name), ["face"])
        XCTAssertTrue((0...1).contains(test.map50) && test.map5095 <= test.map50, "\(test)")

        // The frozen trunk is the pretrained one, bit for bit.
        let bundle = try TrainedModel(bundle: dir.appendingPathComponent("ref/bundle"))
        let pretrained = try YoloBackbone(BackboneSpec.detector(inputSize: 64))
        let trained = Dictionary(uniqueKeysWithValues: try bundle.detector().network.stateDict())
        var compared = 0
        for (key, value) in pretrained.darknet.stateDict() where !key.hasPrefix("layers.15.") && !key.hasPrefix("layers.22.") {
            XCTAssertEqual(trained[key]?.values, value.values, key)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 40)

        // Cancelled after the first epoch, then resumed: the same bundle, byte for byte.
        let stop = StopAfterFirstEpoch()
        XCTAssertThrowsError(try job(.fineTune(unfreeze: 0), work: dir.appendingPathComponent("run"), epochs: 3)
            .run(progress: stop.progress, isCancelled: stop.isCancelled))
        var resumed = try job(.fineTune(unfreeze: 0), work: dir.appendingPathComponent("run"), epochs: 3)
        resumed.options.resume = true
        let second = try resumed.run()
        XCTAssertEqual(second.training?.history.map(\.trainLoss), result.training?.history.map(\.trainLoss))
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("ref/bundle/model.safetensors")),
                       try Data(contentsOf: dir.appendingPathComponent("run/bundle/model.safetensors")))

        // The bundle scores the test images as the job did, and detects in raw images.
        let data = try DataSource.detection(Self.faces.path)
        let evaluation = try TaskEvaluation(bundle, dataset: data.testSet, indices: result.split.test)
        guard case let .detection(again) = evaluation.metrics else { return XCTFail("\(evaluation.metrics)") }
        XCTAssertEqual(again.map50, test.map50, accuracy: 1e-9)
        XCTAssertEqual(again.map5095, test.map5095, accuracy: 1e-9)
        let detector = try bundle.detector()
        XCTAssertEqual(detector.labels, ["face"])
        let image = try ImageDecoder().decode(contentsOf: (data.test as! DetectionDataset).items[0].image)
        let found = try detector.detect([image], threshold: 0.001)[0]
        for d in found { XCTAssertEqual(d.label, "face"); XCTAssertTrue(d.box.maxX <= 256 && d.box.maxY <= 256) }
    }

    func testLastBlocksAndScratchTrainMoreAndTasksRefuseTheWrongNetwork() throws {
        let dir = try DetectionFixtures.temporaryDirectory()
        let two = try job(.fineTune(unfreeze: 2), work: dir.appendingPathComponent("k2"), epochs: 1).run()
        // Heads plus layers 18 (256 -> 128, 1x1, BN) and 21 (384 -> 256, 3x3, BN).
        let heads = 512 * 18 + 18 + 256 * 18 + 18
        XCTAssertEqual(two.trainableParameters, heads + 256 * 128 + 2 * 128 + 384 * 256 * 9 + 2 * 256)
        let scratch = try job(.fromScratch, work: dir.appendingPathComponent("scratch"), epochs: 1).run()
        XCTAssertEqual(scratch.backbone.pretrained, false)
        XCTAssertEqual(scratch.backbone.architecture, "yolov3-tiny")
        XCTAssertGreaterThan(scratch.trainableParameters, 8_000_000)

        // A classification task on a detector, and detection on a classifier, are refused by name.
        var wrong = try job(.fineTune(unfreeze: 0), work: dir.appendingPathComponent("wrong"), epochs: 1)
        wrong.task = ClassificationTask()
        wrong.backbone = try BackboneSpec.detector(inputSize: 64)
        XCTAssertThrowsError(try wrong.run()) { XCTAssertTrue("\($0)".contains("--task detect"), "\($0)") }
        var cnn = try job(.fineTune(unfreeze: 0), work: dir.appendingPathComponent("cnn"), epochs: 1)
        cnn.backbone = .efficientNetLite0
        cnn.task = DetectionTask(classNames: ["face"])
        XCTAssertThrowsError(try cnn.run()) { XCTAssertTrue("\($0)".contains("YOLO"), "\($0)") }
    }

    func testInputSizeScalesGridsAndAnchors() throws {
        let config = try DarknetConfig.read(DetectionFixtures.cfg)
        let small = try config.withInput(width: 160, height: 160)
        let layout = YoloLayout(small)
        XCTAssertEqual(layout.grids.map(\.height), [5, 10])
        XCTAssertEqual(layout.grids.map(\.channels), [255, 255])
        XCTAssertEqual(layout.heads[0].anchors[0], YoloLayout(config).heads[0].anchors[0] * 160 / 416, accuracy: 1e-4)
        XCTAssertThrowsError(try config.withInput(width: 0, height: 160))
        // The network runs at the new size: the raw maps are the layout's.
        let network = DarknetNetwork(config: small)
        let maps = try withNoGrad { try network.forward(Tensor.zeros([1, 160, 160, 3])) }
        XCTAssertEqual(maps.map(\.shape), [[1, 5, 5, 255], [1, 10, 10, 255]])
        let flat = try layout.flatten(maps)
        XCTAssertEqual(flat.shape, [1, layout.rowWidth])
        XCTAssertEqual(try layout.maps(flat).map(\.values), maps.map(\.values))
    }

    /// Cancels a job once the second epoch starts (the first is checkpointed by then).
    final class StopAfterFirstEpoch: @unchecked Sendable {
        private let lock = NSLock()
        private var stop = false
        var progress: ProgressHandler {
            { [self] event in if event.phase == .training, (event.epoch ?? 0) >= 1 { lock.withLock { stop = true } } }
        }
        var isCancelled: @Sendable () -> Bool { { [self] in lock.withLock { stop } } }
    }
}
