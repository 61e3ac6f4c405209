import Foundation
import GraftData
import GraftHeads
import GraftTransfer
import XCTest

/// Task data files (numeric targets, label lists), the regression and multi-label bundles, and the job
/// path refusing tasks it cannot train from class labels.
final class TaskDataTests: XCTestCase {
    var tmp: URL!
    override func setUp() {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("graft-tasks-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: tmp) }

    func write(_ name: String, _ text: String) throws -> URL {
        let url = tmp.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testTargetsAreKeyedByIdPathOrTextRow() throws {
        let byPath = try RegressionTargets(contentsOf: try write("images.csv", "path,label,angle,count\nimg/a.png,x,12.5,3\nimg/b.png,x,-1,0\n"),
                                           columns: ["angle", "count"])
        XCTAssertEqual(byPath.byID, ["img/a.png": [12.5, 3], "img/b.png": [-1, 0]])
        // Text tables: the ids TableDataset gives their rows.
        let texts = try write("reviews.csv", "text,label,score\n\"good, really\",p,4\nbad,n,1\n")
        let byRow = try RegressionTargets(contentsOf: texts, columns: ["score"])
        let dataset = try TableDataset(csv: texts)
        XCTAssertEqual(try byRow.matrix(for: (0..<2).map { dataset.sourceID(at: $0) }, store: "s").values, [4, 1])
        let jsonl = try RegressionTargets(contentsOf: try write("t.jsonl", "{\"id\": \"a\", \"target\": 2}\n\n{\"id\": \"b\", \"target\": \"3.5\"}\n"),
                                          columns: ["target"])
        XCTAssertEqual(jsonl.byID, ["a": [2], "b": [3.5]])
        XCTAssertThrowsError(try jsonl.matrix(for: ["a", "c"], store: "/x/store")) { error in
            XCTAssertEqual(error as? TaskDataError, .missingTarget(path: self.tmp.appendingPathComponent("t.jsonl").path, id: "c", store: "/x/store"))
        }
    }

    func testBadTargetFilesNameTheFileAndLine() throws {
        let duplicate = try write("d.csv", "id,target\na,1\na,2\n")
        XCTAssertThrowsError(try RegressionTargets(contentsOf: duplicate, columns: ["target"])) { error in
            XCTAssertEqual(error as? TaskDataError, .duplicateID(path: duplicate.path, line: 3, id: "a"))
        }
        let ragged = try write("r.csv", "id,target\na,1,9\n")
        XCTAssertThrowsError(try RegressionTargets(contentsOf: ragged, columns: ["target"])) { error in
            XCTAssertEqual(error as? TaskDataError, .malformed(path: ragged.path, line: 2, reason: "3 fields, the header has 2"))
        }
        let infinite = try write("i.jsonl", "{\"id\": \"a\", \"target\": 1}\n{\"id\": \"b\", \"target\": \"inf\"}\n")
        XCTAssertThrowsError(try RegressionTargets(contentsOf: infinite, columns: ["target"])) { error in
            XCTAssertEqual(error as? TaskDataError, .notANumber(path: infinite.path, line: 2, column: "target", value: "inf"))
        }
        let notJSON = try write("n.jsonl", "{\"id\": \"a\", \"target\": 1}\n[1]\n")
        XCTAssertThrowsError(try RegressionTargets(contentsOf: notJSON, columns: ["target"])) { error in
            XCTAssertEqual(error as? TaskDataError, .malformed(path: notJSON.path, line: 2, reason: "not a JSON object"))
        }
        XCTAssertThrowsError(try RegressionTargets(contentsOf: tmp.appendingPathComponent("none.csv"), columns: ["target"])) { error in
            XCTAssertTrue("\(error)".hasPrefix(self.tmp.appendingPathComponent("none.csv").path), "\(error)")
        }
    }

    func testLabelListsFromCSVAndJSONL() throws {
        let csv = try MultiLabelTargets(contentsOf: try write("l.csv", "path,labels\na.png,shirt|sneaker\nb.png,\nc.png, sneaker \n"))
        XCTAssertEqual(csv.names, ["shirt", "sneaker"])
        XCTAssertEqual(csv.byID, ["a.png": [0, 1], "b.png": [], "c.png": [1]])
        let jsonl = try MultiLabelTargets(contentsOf: try write("l.jsonl", "{\"id\": \"x\", \"labels\": [\"b\", \"a\"]}\n{\"id\": \"y\", \"labels\": []}\n"),
                                          names: ["a", "b", "c"])
        XCTAssertEqual(jsonl.byID, ["x": [0, 1], "y": []])
        let unknown = try write("u.csv", "id,labels\nx,a\ny,a|zebra\n")
        XCTAssertThrowsError(try MultiLabelTargets(contentsOf: unknown, names: ["a", "b"])) { error in
            XCTAssertEqual(error as? TaskDataError, .unknownLabel(path: unknown.path, line: 3, label: "zebra", known: ["a", "b"]))
        }
    }

    func testRegressionAndMultiLabelBundlesRoundTrip() throws {
        let x = try FeatureMatrix([[1, 0], [0, 1], [1, 1], [2, 1], [0, 3], [1, 2]])
        let source = FeatureSource(model: "all-minilm-l6-v2", layer: "pooled", pool: .avg, dimension: 2)
        let ridge = try RidgeRegression(.init(alpha: 0.5)).fit(x, targets: try FeatureMatrix((0..<6).map { [Float($0), Float(2 * $0)] }))
        var m = BundleManifest(task: .regression, strategy: .featureExtraction(head: .ridge), backbone: .efficientNetLite0, classNames: ["y", "z"])
        m.source = source
        let regression = tmp.appendingPathComponent("ridge")
        try BundleStore.save(m, regression: ridge.head, to: regression)
        let manifest = try BundleStore.readManifest(regression)
        XCTAssertEqual(manifest.task, .regression)
        XCTAssertEqual(manifest.headAlpha, 0.5)
        XCTAssertEqual(try BundleStore.loadRegressionHead(regression, manifest: manifest), ridge.head)

        var head = try OneVsRestLogistic().fit(x, labels: [[0], [1], [0, 1], [0], [1], [0, 1]], labelCount: 2)
        head.thresholds = [0.4, 0.6]
        var ml = BundleManifest(task: .multiLabel, strategy: .featureExtraction(head: .oneVsRest), backbone: .efficientNetLite0, classNames: ["a", "b"])
        ml.source = source
        let multi = tmp.appendingPathComponent("ovr")
        try BundleStore.save(ml, multiLabel: head, to: multi)
        let back = try BundleStore.readManifest(multi)
        XCTAssertEqual(back.task, .multiLabel)
        XCTAssertEqual(back.headThresholds, [0.4, 0.6])
        XCTAssertEqual(try BundleStore.loadMultiLabelHead(multi, manifest: back), head)
        // A classification loader given a multi-label bundle's manifest says what is missing.
        XCTAssertThrowsError(try BundleStore.loadRegressionHead(multi, manifest: back)) { error in
            XCTAssertTrue("\(error)".contains(multi.path), "\(error)")
        }
    }

    /// Networks train every task (TaskNetworkTests); the job's feature strategy fits classifiers only and sends
    /// the other tasks to their feature-store heads.
    func testTheFeatureJobSendsOtherTasksToGraftFit() throws {
        XCTAssertEqual(TaskKind.allCases.map(\.rawValue), ["classification", "regression", "multi-label", "detect"])
        for kind in [TaskKind.regression, .multiLabel] {
            let job = TransferJob(data: try DataSource.resolve("digits"), task: kind.task, strategy: .featureExtraction(),
                                  options: JobOptions(workDirectory: tmp))
            XCTAssertThrowsError(try job.run()) { error in
                XCTAssertTrue("\(error)".contains("graft fit --task \(kind.rawValue)"), "\(error)")
            }
        }
    }

    /// The job path runs the prototype and k-NN heads like any feature head: validation and test reports,
    /// per-item predictions, a bundle that `TrainedModel` loads and that predicts the same labels.
    func testFeatureJobWithPrototypeAndNeighborHeads() throws {
        let digits = try BuiltinDatasets.digits()
        let picked = Splitter.sample(perClass: 8, labels: digits.labels, seed: 1).filter { digits.label(at: $0) < 3 }
        let data = DataSource(name: "tiny", train: FirstClasses(base: Subset(digits, indices: picked), classNames: ["0", "1", "2"]))
        for head in [HeadKind.prototype, .nearestNeighbors] {
            var o = JobOptions(workDirectory: tmp.appendingPathComponent("work-\(head.rawValue)"))
            o.bundle = tmp.appendingPathComponent(head.rawValue)
            o.validation = .perClass(2)
            o.neighbors = 3
            let result = try TransferJob(data: data, backbone: .efficientNetLite0, strategy: .featureExtraction(head: head), options: o).run()
            XCTAssertEqual(result.strategy.shortName, head.rawValue)
            XCTAssertEqual(result.detail, head == .prototype ? "no fitting" : "k=3")
            let test = try XCTUnwrap(result.test)
            XCTAssertGreaterThan(test.accuracy, 0.5, "\(head): digits 0-2 are easy")
            let predictions = try XCTUnwrap(result.testPredictions)
            XCTAssertEqual(predictions.count, test.rows)
            let model = try TrainedModel(bundle: try XCTUnwrap(result.bundle))
            XCTAssertEqual(model.manifest.headKind, head)
            let loader = BatchLoader(dataset: data.train, indices: result.split.test, preprocessing: try XCTUnwrap(model.preprocessing),
                                     options: .init(batchSize: result.split.test.count))
            let batch = try XCTUnwrap(try loader.next())
            let top = try model.predict(batch, top: 1).map { $0[0].label }
            XCTAssertEqual(top, predictions.predicted.map { data.classNames[$0] }, "the bundle predicts what the job measured")
        }
    }

    /// A view that lists only the classes its items have.
    struct FirstClasses: Dataset {
        let base: any Dataset
        let classNames: [String]
        var count: Int { base.count }
        var kind: DataKind { base.kind }
        func label(at index: Int) -> Int { base.label(at: index) }
        func sourceID(at index: Int) -> String { base.sourceID(at: index) }
        func item(at index: Int) throws -> DataItem { try base.item(at: index) }
    }
}
