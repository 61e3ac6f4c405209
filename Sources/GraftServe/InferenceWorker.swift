import Foundation
import GraftData
import GraftTransfer
import ServiceLifecycle

/// Runs every prediction on one dedicated thread (the model is not
/// thread-safe, and oneDNN's OpenMP team wants a stable calling thread),
/// batching requests that arrive together: after the first input of a batch
/// arrives, the worker waits at most `maxBatchWait` for more, up to
/// `maxBatch` inputs. A bounded queue turns overload into 503s instead of
/// unbounded latency.
///
/// As a `Service` it stops after the HTTP server has drained: inputs already
/// queued are still answered, new ones are refused.
public final class InferenceWorker: Service, @unchecked Sendable {  // unchecked: the queue is guarded by `condition`; the model runs on the worker's one thread
    /// Preprocessed inputs of one request.
    public enum Input: Sendable {
        /// `count` images, preprocessed to the model's input (`count * side * side * 3` Floats).
        case images(pixels: [Float], count: Int, side: Int)
        case texts([String])

        var count: Int {
            switch self {
            case .images(_, let n, _): return n
            case .texts(let t): return t.count
            }
        }
    }

    struct Job {
        let input: Input
        let top: Int
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<[ServedPrediction], any Error>
    }

    public let classifier: TrainedClassifier
    public let options: ServeOptions
    let metrics: ServeMetrics
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Job] = []
    private var queuedInputs = 0
    private var stopping = false
    private var paused = false
    private var finished = false
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []

    public init(classifier: TrainedClassifier, options: ServeOptions, metrics: ServeMetrics) {
        self.classifier = classifier; self.options = options; self.metrics = metrics
        let thread = Thread { [self] in loop() }
        thread.name = "graft-inference"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Queues `input` and waits for its top-`top` labels (one list per input).
    /// Throws `ServeError` 503 when the queue is full or the worker is stopping.
    public func predict(_ input: Input, top: Int) async throws -> [[LabelScore]] {
        try await infer(input, top: top).map { r -> [LabelScore] in if case let .labels(l) = r { l } else { [] } }
    }

    /// Queues `input` and waits for what the model says of each input: top-`top` labels, or a
    /// regression bundle's values. Throws like `predict`.
    public func infer(_ input: Input, top: Int) async throws -> [ServedPrediction] {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if stopping { continuation.resume(throwing: ServeError.shuttingDown); return }
            // One request larger than the queue still runs when the queue is empty.
            if queuedInputs + input.count > options.queueCapacity && !queue.isEmpty {
                metrics.recordRejection()
                continuation.resume(throwing: ServeError.queueFull(waiting: queuedInputs))
                return
            }
            queue.append(Job(input: input, top: top, enqueued: .now, continuation: continuation))
            queuedInputs += input.count
            metrics.setQueued(queuedInputs)
            condition.signal()
        }
    }

    /// Service: runs until graceful shutdown, then answers what is queued and stops.
    public func run() async throws {
        try? await gracefulShutdown()
        // Cancelled (the shutdown grace period ran out): refuse what is still queued instead
        // of draining it, so the process ends after the batch running now.
        await withTaskCancellationHandler { await stop() } onCancel: { abandonQueue() }
    }

    /// Answers every queued input 503 and stops taking new ones; the running batch finishes.
    func abandonQueue() {
        condition.lock()
        stopping = true
        paused = false
        let dropped = queue
        queue = []
        queuedInputs = 0
        metrics.setQueued(0)
        condition.broadcast()
        condition.unlock()
        for job in dropped { job.continuation.resume(throwing: ServeError.shuttingDown) }
    }

    /// Refuses new inputs, finishes the queued ones, and returns when the thread has ended.
    public func stop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            condition.lock()
            stopping = true
            paused = false
            if finished { condition.unlock(); c.resume(); return }
            finishWaiters.append(c)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Holds batches back (queued inputs wait) until `resume()`: lets tests fill the queue deterministically.
    func pause() { condition.lock(); paused = true; condition.unlock() }
    func resume() { condition.lock(); paused = false; condition.broadcast(); condition.unlock() }
    /// Inputs waiting now.
    var waitingInputs: Int { condition.lock(); defer { condition.unlock() }; return queuedInputs }

    // MARK: The thread

    private func loop() {
        while let jobs = nextBatch() { run(jobs) }
        condition.lock()
        finished = true
        let waiters = finishWaiters
        finishWaiters = []
        condition.unlock()
        for w in waiters { w.resume() }
    }

    /// Blocks until a batch is due; nil when stopping with nothing left.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while (queue.isEmpty || paused) && !(stopping && queue.isEmpty) { condition.wait() }
        guard let first = queue.first else { return nil }
        // Bounded wait for company, counted from the first job's arrival (no wait under load).
        let waitSeconds = Self.seconds(options.maxBatchWait - first.enqueued.duration(to: .now))
        if waitSeconds > 0 && queuedInputs < options.maxBatch && !stopping {
            let deadline = Date(timeIntervalSinceNow: waitSeconds)
            while queuedInputs < options.maxBatch && !stopping && condition.wait(until: deadline) {}
        }
        var jobs = [queue.removeFirst()]
        var n = first.input.count
        while let next = queue.first, n + next.input.count <= options.maxBatch, Self.compatible(next.input, first.input) {
            jobs.append(queue.removeFirst()); n += next.input.count
        }
        queuedInputs -= n
        metrics.setQueued(queuedInputs)
        return jobs
    }

    private func run(_ jobs: [Job]) {
        let start = ContinuousClock.now
        do {
            let batch = try makeBatch(jobs.map(\.input))
            let top = jobs.map(\.top).max() ?? 1
            let results: [ServedPrediction] = classifier.manifest.task == .regression
                ? try classifier.values(batch).map { .values($0) }
                : try classifier.predict(batch, top: top).map { .labels($0) }
            metrics.recordBatch(size: batch.count, seconds: Self.seconds(start.duration(to: .now)))
            var offset = 0
            for job in jobs {
                let n = job.input.count
                // A multi-label bundle's answer is its whole label set: `top` does not cut it.
                let cuts = classifier.manifest.task == .classification
                let mine = results[offset..<min(offset + n, results.count)].map { r -> ServedPrediction in
                    if cuts, case let .labels(l) = r { .labels(Array(l.prefix(job.top))) } else { r }
                }
                offset += n
                job.continuation.resume(returning: mine)
            }
        } catch {
            let failure = ServeError(.internalServerError, "inference failed: \(error)")
            for job in jobs { job.continuation.resume(throwing: failure) }
        }
    }

    func makeBatch(_ inputs: [Input]) throws -> Batch {
        var pixels: [Float] = [], texts: [String] = [], side = 0
        for input in inputs {
            switch input {
            case .images(let p, _, let s): pixels += p; side = s
            case .texts(let t): texts += t
            }
        }
        let n = inputs.reduce(0) { $0 + $1.count }
        // A batch to predict says what it holds and carries no labels.
        return texts.isEmpty ? .images(pixels, side: side, count: n) : .texts(texts)
    }

    static func compatible(_ a: Input, _ b: Input) -> Bool {
        switch (a, b) {
        case let (.images(_, _, s), .images(_, _, t)): return s == t
        case (.texts, .texts): return true
        default: return false
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// What a served model says of one input: its labels (classification: the top k; multi-label: every
/// label at or above its threshold) or a regression bundle's value per target.
public enum ServedPrediction: Sendable, Equatable {
    case labels([LabelScore])
    case values([Float])
}
