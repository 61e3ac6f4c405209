import Foundation
import GraftHeads
import XCTest

/// Mini-batch training over chunks against the in-memory L-BFGS optimum.
final class StreamingTests: XCTestCase {
    func testStreamedFitApproachesTheLBFGSOptimum() throws {
        let split = try TestData.digitsSplit()
        var options = LogisticRegression.Options(C: 0.1)
        options.tolerance = 1e-6
        let exact = try LogisticRegression(options).fit(split.train, labels: split.trainLabels)

        // Chunks written class by class, the worst order for mini-batches.
        let order = split.trainLabels.indices.sorted { (split.trainLabels[$0], $0) < (split.trainLabels[$1], $1) }
        let sorted = try split.train.selectingRows(order)
        let source = try InMemoryChunks(features: sorted, labels: order.map { split.trainLabels[$0] }, rowsPerChunk: 100)
        var streaming = StreamingOptions(epochs: 30, batchSize: 32, learningRate: 0.01)
        streaming.chunksPerPool = 4
        let streamed = try LogisticRegression(options).fitStreaming(source, streaming: streaming)

        XCTAssertEqual(streamed.head.classes, exact.head.classes)
        XCTAssertEqual(streamed.summary.stop, .epochsCompleted)
        XCTAssertEqual(streamed.summary.objective, exact.summary.objective, accuracy: 0.01 * exact.summary.objective)
        let streamedAccuracy = TestData.accuracy(try streamed.head.predict(split.test), split.testLabels)
        let exactAccuracy = TestData.accuracy(try exact.head.predict(split.test), split.testLabels)
        XCTAssertEqual(streamedAccuracy, exactAccuracy, accuracy: 0.01)
        // Standardisation statistics gathered chunk by chunk equal the in-memory ones.
        let a = try XCTUnwrap(streamed.head.standardization), b = try XCTUnwrap(exact.head.standardization)
        for j in 0..<64 {
            XCTAssertEqual(a.mean[j], b.mean[j], accuracy: 1e-4)
            XCTAssertEqual(a.scale[j], b.scale[j], accuracy: 1e-4 * max(1, b.scale[j]))
        }
    }

    func testStreamedFitChoosesCOnAReservoirSample() throws {
        let split = try TestData.synthetic()
        let source = try InMemoryChunks(features: split.train, labels: split.trainLabels, rowsPerChunk: 50)
        var options = LogisticRegression.Options()
        options.cGrid = [1e-4, 1]
        options.folds = 3
        var streaming = StreamingOptions(epochs: 20, batchSize: 16, learningRate: 0.01)
        streaming.crossValidationSampleSize = 150
        let fit = try LogisticRegression(options).fitStreaming(source, streaming: streaming)
        let cv = try XCTUnwrap(fit.summary.crossValidation)
        XCTAssertEqual(cv.foldAccuracy.map(\.count), [3, 3])
        XCTAssertEqual(fit.summary.C, 1)
        XCTAssertGreaterThan(TestData.accuracy(try fit.head.predict(split.test), split.testLabels), 0.85)
    }

    func testChunkErrorsNameTheChunk() throws {
        struct Broken: Error {}
        let source = ClosureChunkSource(featureCount: 3, chunkCount: 2) { index in
            if index == 1 { throw Broken() }
            return LabeledChunk(features: try FeatureMatrix([[1, 2, 3], [3, 2, 1]]), labels: [0, 1])
        }
        XCTAssertThrowsError(try LogisticRegression(.init(C: 1)).fitStreaming(source)) { error in
            guard case .chunkSource(index: 1, _)? = error as? HeadsError else { return XCTFail("\(error)") }
        }
        let wrongWidth = ClosureChunkSource(featureCount: 2, chunkCount: 1) { _ in
            LabeledChunk(features: try FeatureMatrix([[1, 2, 3]]), labels: [0])
        }
        XCTAssertThrowsError(try LogisticRegression(.init(C: 1)).fitStreaming(wrongWidth)) { error in
            guard case .chunkSource(index: 0, _)? = error as? HeadsError else { return XCTFail("\(error)") }
        }
    }
}
