import Foundation
import Synchronization
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// A classifier being trained on a thread of its own: observe `progress`,
/// await `result`, or `cancel()`.
///
/// Cancelling (by `cancel()`, or by cancelling the task that awaits `result`)
/// stops the job at the next batch; `result` then throws `CancellationError`,
/// `progress` ends with `.completed(.cancelled)`, and the job's staging folder,
/// with any partial feature store, checkpoint or bundle, is removed.
public final class TrainingJob<Model: Sendable>: Sendable {
    /// Phase, epoch, step, loss, metrics and ETA, ending with one `.completed`.
    public let progress: TrainingEvents
    private let state: JobState<Model>

    /// Starts `work` on a new thread (training is synchronous CPU work that must
    /// not occupy a thread of Swift's cooperative pool).
    init(_ work: @escaping @Sendable (TrainingJobContext) throws -> (Model, Metrics?)) {
        let hub = EventHub()
        let state = JobState<Model>()
        progress = TrainingEvents(hub: hub)
        self.state = state
        let context = TrainingJobContext(isCancelled: { state.isCancelled }, report: { hub.publish(.progress($0)) })
        let thread = Thread {
            let outcome: Result<Model, any Error>
            let completion: TrainingCompletion
            do {
                let (model, metrics) = try work(context)
                outcome = .success(model)
                completion = .succeeded(validation: metrics)
            } catch {
                let cancelled = state.isCancelled || (error as? TransferError) == .cancelled || error is CancellationError
                outcome = .failure(cancelled ? CancellationError() : error)
                completion = cancelled ? .cancelled : .failed("\(error)")
            }
            hub.publish(.completed(completion))
            state.finish(outcome)
        }
        thread.name = "graft-training"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// The trained model. Cancelling the awaiting task cancels the job.
    public var result: Model {
        get async throws {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { state.wait($0) }
            } onCancel: { [state] in
                state.cancel()
            }
        }
    }

    /// Asks the job to stop at its next batch; harmless once it has ended.
    public func cancel() { state.cancel() }

    public var isCancelled: Bool { state.isCancelled }

    /// Whether the job has ended (succeeded, failed or cancelled).
    public var isFinished: Bool { state.isFinished }

    /// The latest event, nil before the first.
    public var latestEvent: TrainingEvent? { progress.hub.latestEvent }
}

/// A job's cancellation flag, its outcome and the tasks waiting for it.
final class JobState<Model: Sendable>: Sendable {
    private struct State {
        var cancelled = false
        var outcome: Result<Model, any Error>?
        var waiters: [CheckedContinuation<Model, any Error>] = []
    }
    private let state = Mutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }
    var isFinished: Bool { state.withLock { $0.outcome != nil } }

    func cancel() { state.withLock { $0.cancelled = true } }

    func wait(_ c: CheckedContinuation<Model, any Error>) {
        let done = state.withLock { s -> Result<Model, any Error>? in
            if s.outcome == nil { s.waiters.append(c) }
            return s.outcome
        }
        if let done { c.resume(with: done) }
    }

    func finish(_ result: Result<Model, any Error>) {
        let ready = state.withLock { s in
            s.outcome = result
            defer { s.waiters = [] }
            return s.waiters
        }
        for c in ready { c.resume(with: result) }
    }
}

/// What a job's work receives: the cancellation flag and the progress sink.
struct TrainingJobContext: Sendable {
    let isCancelled: @Sendable () -> Bool
    let report: @Sendable (TrainingProgress) -> Void
    /// The transfer layer's progress, translated.
    var handler: ProgressHandler { { [report] e in report(TrainingProgress(e)) } }

    func checkCancellation() throws { if isCancelled() { throw TransferError.cancelled } }
}
