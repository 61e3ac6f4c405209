import Foundation
import Synchronization
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

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
final class EventHub: Sendable {
    private struct State {
        var subscribers: [AsyncStream<TrainingEvent>.Continuation] = []
        var latest: TrainingEvent?
        var finished = false
    }
    private let state = Mutex(State())

    func subscribe() -> AsyncStream<TrainingEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: TrainingEvent.self, bufferingPolicy: .bufferingNewest(256))
        state.withLock { s in
            if let latest = s.latest { continuation.yield(latest) }
            if s.finished { continuation.finish() } else { s.subscribers.append(continuation) }
        }
        return stream
    }

    func publish(_ event: TrainingEvent) {
        state.withLock { s in
            guard !s.finished else { return }
            s.latest = event
            for c in s.subscribers { c.yield(event) }
            if event.isCompletion {
                s.finished = true
                for c in s.subscribers { c.finish() }
                s.subscribers = []
            }
        }
    }

    var latestEvent: TrainingEvent? { state.withLock { $0.latest } }
}
