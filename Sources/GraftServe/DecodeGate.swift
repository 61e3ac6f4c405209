import Foundation
import Synchronization

/// Admission for image decodes: at most `maxConcurrent` run at once and at most
/// `memoryBudget` bytes of decoded pixels are in flight; the rest wait in
/// arrival order. Every request has a deadline that holds however many arrive:
/// the answer comes at the deadline at the latest, 503 if the image never got a
/// slot, 422 if its decode overran.
///
/// Decodes run on threads of their own, never on GCD: on Linux, libdispatch's
/// global pool (which also runs Swift concurrency's jobs) has about one thread
/// per core, so the earlier version's decodes there stalled the deadline timers
/// and every request handler: 48 concurrent large PNGs were answered after 20 s
/// at a 2 s limit. An abandoned decode cannot be interrupted; it finishes in the
/// background and keeps its memory and its slot until then, which is what keeps
/// the memory bound true.
final class DecodeGate: Sendable {
    let maxConcurrent: Int
    let memoryBudget: Int
    private let state = Mutex(State())

    private struct Waiter {
        let id: Int
        let cost: Int
        let start: @Sendable () -> Void
    }

    /// Slots and bytes taken, the queue in arrival order.
    private struct State {
        var running = 0
        var bytesInFlight = 0
        var peakBytes = 0
        var waiting: [Waiter] = []
        var nextID = 0

        func fits(_ cost: Int, maxConcurrent: Int, memoryBudget: Int) -> Bool {
            running < maxConcurrent && bytesInFlight + cost <= memoryBudget
        }

        mutating func take(_ cost: Int) {
            running += 1
            bytesInFlight += cost
            peakBytes = max(peakBytes, bytesInFlight)
        }
    }

    private static let timers = DispatchQueue(label: "graft.decode-deadlines", qos: .userInteractive)

    init(maxConcurrent: Int, memoryBudget: Int) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.memoryBudget = max(1, memoryBudget)
    }

    /// Bytes a decode of a `width` x `height` image into a `side` x `side` input holds at
    /// its peak: the decoder's buffer (up to 4 channels) and the RGB image (3), the
    /// resized and normalised floats, and the request body itself.
    static func cost(width: Int, height: Int, side: Int, bodyBytes: Int) -> Int {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= Int.max / 8 else { return Int.max / 2 }
        return pixels * 7 + side * side * 3 * 4 * 2 + bodyBytes
    }

    /// Decodes now and peak bytes so far (for tests and metrics).
    var inFlight: (decodes: Int, bytes: Int, waiting: Int, peakBytes: Int) {
        state.withLock { ($0.running, $0.bytesInFlight, $0.waiting.count, $0.peakBytes) }
    }

    /// Runs `work` once a slot and `cost` bytes are free, answering by `deadline`.
    func run<T: Sendable>(cost: Int, deadline: ContinuousClock.Instant, limitDescription: String,
                          _ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard cost <= memoryBudget else {
            throw ServeError.tooLarge("decoding this image needs about \(cost >> 20) MiB, more than the decode memory budget of \(memoryBudget >> 20) MiB")
        }
        let once = ResumeOnce<T>()
        return try await withCheckedThrowingContinuation { continuation in
            once.set(continuation)
            let id = admit(cost: cost) {
                let thread = Thread {
                    let result = Result { try work() }
                    once.resume(result)
                    self.release(cost)
                }
                thread.name = "graft-decode"
                thread.stackSize = 8 << 20
                thread.start()
            }
            let remaining = InferenceWorker.seconds(ContinuousClock.now.duration(to: deadline))
            Self.timers.asyncAfter(deadline: .now() + max(0, remaining)) {
                if self.withdraw(id) {
                    once.resume(.failure(ServeError(.serviceUnavailable,
                                                    "server busy decoding other images: this one did not start within \(limitDescription); retry shortly",
                                                    headers: [.retryAfter: "1"])))
                } else {
                    once.resume(.failure(ServeError.unprocessable("decoding the image took longer than \(limitDescription)")))
                }
            }
        }
    }

    /// Starts `start` now if it fits and nobody waits ahead, else queues it. Returns its id.
    private func admit(cost: Int, _ start: @escaping @Sendable () -> Void) -> Int {
        let (id, startsNow) = state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            if s.waiting.isEmpty && s.fits(cost, maxConcurrent: maxConcurrent, memoryBudget: memoryBudget) {
                s.take(cost)
                return (id, true)
            }
            s.waiting.append(Waiter(id: id, cost: cost, start: start))
            return (id, false)
        }
        if startsNow { start() }
        return id
    }

    /// Removes a waiter whose deadline passed; false if it already started.
    private func withdraw(_ id: Int) -> Bool {
        let started: [@Sendable () -> Void]? = state.withLock { s in
            guard let i = s.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            s.waiting.remove(at: i)
            return startWaiters(&s)
        }
        started?.forEach { $0() }
        return started != nil
    }

    private func release(_ cost: Int) {
        let started = state.withLock { s in
            s.running -= 1
            s.bytesInFlight -= cost
            return startWaiters(&s)
        }
        started.forEach { $0() }
    }

    /// Admits waiters in order while the head fits (strict FIFO: a large image is not
    /// starved by small ones). Returns what to start once the lock is released.
    private func startWaiters(_ s: inout State) -> [@Sendable () -> Void] {
        var started: [@Sendable () -> Void] = []
        while let head = s.waiting.first, s.fits(head.cost, maxConcurrent: maxConcurrent, memoryBudget: memoryBudget) {
            s.waiting.removeFirst()
            s.take(head.cost)
            started.append(head.start)
        }
        return started
    }
}
