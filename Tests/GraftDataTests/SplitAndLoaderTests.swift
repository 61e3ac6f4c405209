import Foundation
import XCTest
@testable import GraftData

final class SplitAndLoaderTests: XCTestCase {
    func testStratifiedSplitIsDisjointProportionalAndDeterministic() {
        // Imbalanced: class 0 has 500, class 1 has 100, class 2 has 7, class 3 has 1.
        var labels = [Int](repeating: 0, count: 500) + [Int](repeating: 1, count: 100)
        labels += [Int](repeating: 2, count: 7) + [3]
        var g = SeededGenerator(seed: 5)
        g.shuffle(&labels)
        let split = Splitter.stratified(labels: labels, validation: 0.1, test: 0.2, seed: 11)
        let all = split.train + split.validation + split.test
        XCTAssertEqual(all.count, labels.count)
        XCTAssertEqual(Set(all).count, labels.count, "parts are disjoint and cover everything")
        func count(_ part: [Int], _ c: Int) -> Int { part.filter { labels[$0] == c }.count }
        XCTAssertEqual([count(split.test, 0), count(split.validation, 0), count(split.train, 0)], [100, 50, 350])
        XCTAssertEqual([count(split.test, 1), count(split.validation, 1), count(split.train, 1)], [20, 10, 70])
        XCTAssertEqual([count(split.test, 2), count(split.validation, 2), count(split.train, 2)], [1, 1, 5])
        XCTAssertEqual(count(split.train, 3), 1, "a class with one item keeps it for training")
        XCTAssertEqual(split.train, split.train.sorted())
        XCTAssertEqual(split, Splitter.stratified(labels: labels, validation: 0.1, test: 0.2, seed: 11))
        XCTAssertNotEqual(split, Splitter.stratified(labels: labels, validation: 0.1, test: 0.2, seed: 12))
        // A class's picks do not depend on the other classes.
        let only0 = labels.enumerated().filter { $0.element == 0 }.map(\.offset)
        let alone = Splitter.stratified(labels: labels.map { $0 == 0 ? 0 : -1 }, validation: 0.1, test: 0.2, seed: 11)
        XCTAssertEqual(alone.test.filter { labels[$0] == 0 }, split.test.filter { labels[$0] == 0 })
        XCTAssertEqual(only0.count, 500)
    }

    func testPerClassSampling() throws {
        let test = try BuiltinDatasets.fashionMNIST(.test)
        let picked = Splitter.sample(perClass: 100, labels: test.labels, seed: 3)
        XCTAssertEqual(picked.count, 1000)
        XCTAssertEqual(Subset(test, indices: picked).classCounts, [Int](repeating: 100, count: 10))
        XCTAssertEqual(picked, Splitter.sample(perClass: 100, labels: test.labels, seed: 3))
        XCTAssertNotEqual(picked, Splitter.sample(perClass: 100, labels: test.labels, seed: 4))
        // From a pool: only pool members, and classes short of N give what they have.
        let pool = Array(0..<50)
        let few = Splitter.sample(perClass: 3, labels: test.labels, from: pool, seed: 1)
        XCTAssert(few.allSatisfy { $0 < 50 })
        let poolCounts = (0..<10).map { c in pool.filter { test.label(at: $0) == c }.count }
        XCTAssertEqual((0..<10).map { c in few.filter { test.label(at: $0) == c }.count }, poolCounts.map { min($0, 3) })
    }

    func testLoaderBatchesAreOrderedCompleteAndEqualToDirectPreprocessing() throws {
        let data = try BuiltinDatasets.digits()
        let prep = Preprocessing(inputSize: 16, crop: .stretch, normalization: .efficientNetLite)
        let indices = Array(0..<203)
        for workers in [0, 1, 3] {
            let loader = BatchLoader(dataset: data, indices: indices, preprocessing: prep,
                                     options: .init(batchSize: 32, prefetch: 2, workers: workers))
            XCTAssertEqual(loader.batchCount, 7)
            var seen: [Int] = []
            var numbers: [Int] = []
            while let batch = try loader.next() {
                numbers.append(batch.number)
                XCTAssertEqual(batch.pixels.count, batch.count * 16 * 16 * 3)
                XCTAssertEqual(batch.labels, batch.indices.map(data.label(at:)))
                XCTAssertEqual(batch.ids, batch.indices.map(data.sourceID(at:)))
                // Spot-check slots against preprocessing the item directly.
                for k in [0, batch.count - 1] {
                    let direct = prep.apply(data.image(at: batch.indices[k]))
                    XCTAssertEqual(Array(batch.pixels[(k * prep.outputCount)..<((k + 1) * prep.outputCount)]), direct)
                }
                seen += batch.indices
            }
            XCTAssertEqual(numbers, Array(0..<7), "workers \(workers)")
            XCTAssertEqual(seen, indices, "workers \(workers)")
            XCTAssertLessThanOrEqual(loader.peakBatchesInMemory, 2, "workers \(workers)")
            XCTAssertNil(try loader.next())
        }
    }

    func testLoaderShuffleAndAugmentationAreDeterministicAcrossWorkerCounts() throws {
        let data = try BuiltinDatasets.digits()
        let prep = Preprocessing(inputSize: 12, crop: .stretch, normalization: .unit)
        func run(workers: Int, seed: UInt64, epoch: Int) throws -> ([Int], [Float]) {
            let loader = BatchLoader(dataset: data, indices: Array(0..<100), preprocessing: prep,
                                     options: .init(batchSize: 16, shuffle: true, seed: seed, epoch: epoch,
                                                    workers: workers, dropLast: true, augmentation: .standard))
            var order: [Int] = [], pixels: [Float] = []
            while let b = try loader.next() { order += b.indices; pixels += b.pixels }
            return (order, pixels)
        }
        let a = try run(workers: 1, seed: 1, epoch: 0)
        let b = try run(workers: 3, seed: 1, epoch: 0)
        XCTAssertEqual(a.0.count, 96, "dropLast leaves out the 4 extra items")
        XCTAssertEqual(a.0, b.0)
        XCTAssertEqual(a.1, b.1)
        XCTAssertNotEqual(a.0, Array(a.0).sorted())
        let c = try run(workers: 1, seed: 1, epoch: 1)
        XCTAssertNotEqual(a.0, c.0, "another epoch, another order")
    }

    /// Prefetch bound: with a slow consumer the workers never run more than
    /// `prefetch` batches ahead.
    func testLoaderIsBounded() throws {
        let data = try BuiltinDatasets.digits()
        let prep = Preprocessing(inputSize: 8, crop: .stretch, normalization: .unit)
        let loader = BatchLoader(dataset: data, preprocessing: prep,
                                 options: .init(batchSize: 8, prefetch: 3, workers: 4))
        var taken = 0
        while let _ = try loader.next() {
            taken += 1
            if taken < 5 { Thread.sleep(forTimeInterval: 0.01) }   // give workers time to run ahead
        }
        XCTAssertEqual(taken, 225)
        XCTAssertEqual(loader.peakBatchesInMemory, 3)
    }

    func testLoaderSkipsOrThrowsOnUnreadableItems() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let skimage = FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data")
        let fm = FileManager.default
        for c in ["a", "b"] { try fm.createDirectory(at: dir.appendingPathComponent(c), withIntermediateDirectories: true) }
        try fm.copyItem(at: skimage.appendingPathComponent("coins.png"), to: dir.appendingPathComponent("a/1.png"))
        try Data().write(to: dir.appendingPathComponent("a/2.png"))
        try fm.copyItem(at: skimage.appendingPathComponent("rocket.jpg"), to: dir.appendingPathComponent("a/3.jpg"))
        try Data("hello".utf8).write(to: dir.appendingPathComponent("b/1.jpg"))
        try fm.copyItem(at: skimage.appendingPathComponent("chelsea.png"), to: dir.appendingPathComponent("b/2.png"))
        let data = try ImageFolderDataset(root: dir)
        let prep = Preprocessing(inputSize: 32)

        let lenient = BatchLoader(dataset: data, preprocessing: prep, options: .init(batchSize: 2))
        var ids: [String] = []
        while let batch = try lenient.next() {
            ids += batch.ids
            XCTAssertEqual(batch.pixels.count, batch.count * 32 * 32 * 3)
        }
        XCTAssertEqual(ids, ["a/1.png", "a/3.jpg", "b/2.png"])
        XCTAssertEqual(lenient.failures.map(\.id), ["a/2.png", "b/1.jpg"])
        XCTAssertEqual(lenient.failures.first?.imageError, .empty(file: dir.appendingPathComponent("a/2.png").path))
        XCTAssert(lenient.failures[1].description.contains("b/1.jpg"))

        let strict = BatchLoader(dataset: data, preprocessing: prep, options: .init(batchSize: 2, strict: true))
        XCTAssertThrowsError(try { while try strict.next() != nil {} }()) { error in
            XCTAssertEqual((error as? ItemFailure)?.id, "a/2.png")
        }
        XCTAssertNil(try strict.next(), "a strict loader stops after its first failure")
    }

    func testTextLoader() throws {
        let reviews = try BuiltinDatasets.rottenTomatoes()
        let loader = BatchLoader(dataset: reviews, indices: Array(0..<10), preprocessing: Preprocessing(inputSize: 1),
                                 options: .init(batchSize: 4))
        var texts: [String] = []
        while let b = try loader.next() {
            XCTAssertTrue(b.pixels.isEmpty)
            texts += b.texts
        }
        XCTAssertEqual(texts.count, 10)
        XCTAssertEqual(try reviews.item(at: 3), .text(texts[3]))
    }

    func testAbandonedLoaderStopsItsWorkers() throws {
        let data = try BuiltinDatasets.digits()
        weak var weakLoader: BatchLoader?
        do {
            let loader = BatchLoader(dataset: data, preprocessing: Preprocessing(inputSize: 8, crop: .stretch),
                                     options: .init(batchSize: 4, workers: 2))
            weakLoader = loader
            _ = try loader.next()
        }
        XCTAssertNil(weakLoader, "workers hold the shared state, not the loader")
    }
}
