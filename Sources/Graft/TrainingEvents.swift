import Foundation

/// The events of a training job as an `AsyncSequence`. Every iteration is its
/// own subscription: it starts with the job's latest event (so a late reader
/// learns where the job is, or how it ended) and finishes after `.completed`.
/// A slow reader keeps the newest 256 events, so the completion is never lost.
///
/// ```swift
/// for await event in job.progress {
///     if case let .progress(p) = event { print(p.phase, p.fractionCompleted) }
/// }
/// ```
public struct TrainingEvents: AsyncSequence, Sendable {
    public typealias Element = TrainingEvent
    let hub: EventHub

    public func makeAsyncIterator() -> AsyncStream<TrainingEvent>.Iterator {
        hub.subscribe().makeAsyncIterator()
    }
}

/// Fans one job's events out to every subscriber.
final class EventHub: @unchecked Sendable {
    private let lock = NSLock()
    private var subscribers: [AsyncStream<TrainingEvent>.Continuation] = []
    private var latest: TrainingEvent?
    private var finished = false

    func subscribe() -> AsyncStream<TrainingEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: TrainingEvent.self, bufferingPolicy: .bufferingNewest(256))
        lock.lock(); defer { lock.unlock() }
        if let latest { continuation.yield(latest) }
        if finished { continuation.finish() } else { subscribers.append(continuation) }
        return stream
    }

    func publish(_ event: TrainingEvent) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        latest = event
        for s in subscribers { s.yield(event) }
        if event.isCompletion {
            finished = true
            for s in subscribers { s.finish() }
            subscribers = []
        }
    }

    var latestEvent: TrainingEvent? {
        lock.lock(); defer { lock.unlock() }
        return latest
    }
}
