import GraftCore
import Foundation

/// Decodes and preprocesses a data set on background threads and hands out
/// batches in order.
///
/// - Bounded: at most `prefetch` batches are being built or waiting, plus the
///   one the caller holds; workers block until the caller catches up.
/// - Ordered and deterministic: batch `k` always holds the same items, shuffled
///   by `seed` and `epoch`; augmentation draws from a generator per
///   (seed, epoch, item), so results do not depend on thread timing.
/// - Failures: unreadable items are left out and listed (`Batch.failures`,
///   `failures`), or, with `strict`, `next()` throws the first one.
///
/// ```swift
/// let loader = BatchLoader(dataset: data, preprocessing: .efficientNetLite(),
///                          options: .init(batchSize: 32))
/// while let batch = try loader.next() { use(batch.pixels, batch.labels) }
/// ```
/// Default: one worker thread (oneDNN's OpenMP threads want the cores).
public final class BatchLoader: Sendable {
    public struct Options: Sendable, Equatable {
        public var batchSize: Int
        public var shuffle: Bool
        public var seed: UInt64
        public var epoch: Int
        /// Most batches in flight or waiting (>= 1).
        public var prefetch: Int
        /// Background threads; 0 builds each batch on the caller's thread inside `next()`.
        public var workers: Int
        /// Throw on the first unreadable item instead of skipping it.
        public var strict: Bool
        /// Leave out a last batch smaller than `batchSize`.
        public var dropLast: Bool
        /// Training-time augmentation; `nil` for the deterministic `Preprocessing`.
        public var augmentation: Augmentation?

        public init(batchSize: Int = 32, shuffle: Bool = false, seed: UInt64 = 0, epoch: Int = 0, prefetch: Int = 2,
                    workers: Int = 1, strict: Bool = false, dropLast: Bool = false, augmentation: Augmentation? = nil) {
            self.batchSize = max(1, batchSize)
            self.shuffle = shuffle
            self.seed = seed
            self.epoch = epoch
            self.prefetch = max(1, prefetch)
            self.workers = max(0, workers)
            self.strict = strict
            self.dropLast = dropLast
            self.augmentation = augmentation
        }
    }

    public let dataset: any Dataset
    public let preprocessing: Preprocessing
    public let options: Options
    /// Data set indices in the order they are served.
    public let order: [Int]
    public let batchCount: Int
    private let state: LoaderState

    /// - Parameter indices: items to serve (e.g. a split); default all.
    public init(dataset: any Dataset, indices: [Int]? = nil, preprocessing: Preprocessing, options: Options = Options()) {
        var order = (indices ?? Array(0..<dataset.count)).filter { $0 >= 0 && $0 < dataset.count }
        if options.shuffle {
            var generator = SeededGenerator(seed: options.seed, epoch: options.epoch, index: -1)
            generator.shuffle(&order)
        }
        let full = order.count / options.batchSize
        let batches = options.dropLast || order.count % options.batchSize == 0 ? full : full + 1
        self.dataset = dataset
        self.preprocessing = preprocessing
        self.options = options
        self.order = Array(order.prefix(batches * options.batchSize))
        self.batchCount = batches
        self.state = LoaderState(batchCount: batches, prefetch: options.prefetch)
        for _ in 0..<min(options.workers, batches) {
            let work = BatchWork(dataset: dataset, order: self.order, preprocessing: preprocessing, options: options)
            let state = self.state
            let thread = Thread { Self.workerLoop(state: state, work: work) }
            thread.name = "graft.loader"
            thread.start()
        }
    }

    deinit { state.cancel() }

    /// The next batch in order, or `nil` after the last one (or after `cancel()`).
    /// With `strict`, throws the first failure of the batch and stops the loader.
    public func next() throws(ItemFailure) -> Batch? {
        let batch: Batch?
        if options.workers == 0 {
            guard let number = state.claimInline() else { return nil }
            let built = BatchWork(dataset: dataset, order: order, preprocessing: preprocessing, options: options).build(number)
            state.recordInline(built)
            batch = built
        } else {
            batch = state.take()
        }
        guard let batch else { return nil }
        if options.strict, let first = batch.failures.first {
            state.cancel()
            throw first
        }
        return batch
    }

    /// All failures recorded so far, in batch order.
    public var failures: [ItemFailure] { state.failures }

    /// Largest number of batches that were built or waiting at one time (for tests and tuning).
    public var peakBatchesInMemory: Int { state.peak }

    /// Stops the workers after their current batch; `next()` then returns `nil`.
    public func cancel() { state.cancel() }

    private static func workerLoop(state: LoaderState, work: BatchWork) {
        while let number = state.claim() {
            state.deliver(work.build(number))
        }
    }
}

/// Builds batch `k`: loads, preprocesses or augments each item into its NHWC slot.
struct BatchWork: Sendable {
    let dataset: any Dataset
    let order: [Int]
    let preprocessing: Preprocessing
    let options: BatchLoader.Options

    func build(_ number: Int) -> Batch {
        let start = number * options.batchSize
        let members = Array(order[start..<min(order.count, start + options.batchSize)])
        let isText = dataset.kind == .text
        let slot = isText ? 0 : preprocessing.outputCount
        var pixels = [Float](repeating: 0, count: members.count * slot)
        var texts: [String] = [], targets: [ItemTarget] = [], ids: [String] = [], kept: [Int] = []
        var failures: [ItemFailure] = []
        for index in members {
            do {
                switch try dataset.item(at: index) {
                case .text(let text):
                    texts.append(text)
                case .image(let image):
                    let offset = kept.count * slot
                    var target = dataset.target(at: index)
                    pixels.withUnsafeMutableBufferPointer { all in
                        let destination = UnsafeMutableBufferPointer(rebasing: all[offset..<(offset + slot)])
                        if let augmentation = options.augmentation {
                            var generator = SeededGenerator(seed: options.seed, epoch: options.epoch, index: index)
                            if case let .boxes(objects) = target {
                                // Detection: the objects move with the pixels.
                                target = .boxes(augmentation.apply(image, preprocessing: preprocessing, generator: &generator,
                                                                   into: destination, boxes: objects))
                            } else {
                                augmentation.apply(image, preprocessing: preprocessing, generator: &generator, into: destination)
                            }
                        } else {
                            preprocessing.apply(image, into: destination)
                        }
                    }
                    targets.append(target)
                    ids.append(dataset.sourceID(at: index))
                    kept.append(index)
                    continue
                }
                targets.append(dataset.target(at: index))
                ids.append(dataset.sourceID(at: index))
                kept.append(index)
            } catch {
                failures.append(ItemFailure(index: index, id: dataset.sourceID(at: index),
                                            imageError: error as? ImageError, reason: "\(error)"))
            }
        }
        if kept.count < members.count { pixels.removeLast((members.count - kept.count) * slot) }
        let side = preprocessing.inputSize
        // A data set's targets are one kind and width (TargetedDataset checks it); a mixed set is a bug upstream.
        let gathered = (try? BatchTargets(targets)) ?? .classes(kept.map(dataset.label(at:)))
        return Batch(number: number, inputs: isText ? .texts(texts) : .images(pixels: pixels, height: side, width: side),
                     targets: gathered, ids: ids, indices: kept, failures: failures)
    }
}

/// The loader's shared state. All fields are guarded by `condition`'s lock,
/// which is what makes the `@unchecked Sendable` sound.
final class LoaderState: @unchecked Sendable {
    private let condition = NSCondition()
    private let batchCount: Int
    private let prefetch: Int
    private var nextToClaim = 0
    private var nextToTake = 0
    private var ready: [Int: Batch] = [:]
    private var cancelled = false
    private var allFailures: [Int: [ItemFailure]] = [:]
    private var inMemory = 0
    private(set) var peakValue = 0

    init(batchCount: Int, prefetch: Int) {
        self.batchCount = batchCount
        self.prefetch = prefetch
    }

    /// Worker side: the next batch number to build, waiting while `prefetch`
    /// batches are already built or building; `nil` when done or cancelled.
    func claim() -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !cancelled && nextToClaim < batchCount && nextToClaim >= nextToTake + prefetch { condition.wait() }
        guard !cancelled, nextToClaim < batchCount else { return nil }
        defer { nextToClaim += 1 }
        inMemory += 1
        peakValue = max(peakValue, inMemory)
        return nextToClaim
    }

    func deliver(_ batch: Batch) {
        condition.lock(); defer { condition.unlock() }
        ready[batch.number] = batch
        if !batch.failures.isEmpty { allFailures[batch.number] = batch.failures }
        condition.broadcast()
    }

    /// Consumer side: waits for the next batch in order.
    func take() -> Batch? {
        condition.lock(); defer { condition.unlock() }
        guard nextToTake < batchCount else { return nil }
        while !cancelled && ready[nextToTake] == nil { condition.wait() }
        guard !cancelled, let batch = ready.removeValue(forKey: nextToTake) else { return nil }
        nextToTake += 1
        inMemory -= 1
        condition.broadcast()
        return batch
    }

    /// Inline mode (no workers): claim the next number on the caller's thread.
    func claimInline() -> Int? {
        condition.lock(); defer { condition.unlock() }
        guard !cancelled, nextToTake < batchCount else { return nil }
        peakValue = max(peakValue, 1)
        return nextToTake
    }

    func recordInline(_ batch: Batch) {
        condition.lock(); defer { condition.unlock() }
        if !batch.failures.isEmpty { allFailures[batch.number] = batch.failures }
        nextToTake += 1
        nextToClaim = nextToTake
    }

    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        ready.removeAll()
        condition.broadcast()
    }

    var failures: [ItemFailure] {
        condition.lock(); defer { condition.unlock() }
        return allFailures.keys.sorted().flatMap { allFailures[$0] ?? [] }
    }

    var peak: Int {
        condition.lock(); defer { condition.unlock() }
        return peakValue
    }
}
