import Foundation
import GraftData
import GraftTransfer
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import XCTest
@testable import GraftServe

/// Batching, the queue bound and graceful shutdown, with several real
/// connections to a server on a loopback port.
final class ServeConcurrencyTests: XCTestCase {
    struct Timeout: Error {}

    /// Runs the server in its own service group on a free port until `body` returns.
    func withServer<T: Sendable>(_ server: PredictionServer, _ body: @escaping @Sendable (Int, ServiceGroup) async throws -> T) async throws -> T {
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let app = server.application { port in announce.yield(port) }
        var logger = Logger(label: "graft-serve-test")
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw Timeout() }
            do {
                let value = try await body(port, group)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                server.worker.resume()
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    static func post(_ port: Int, _ body: Data) async throws -> TestClient.Response {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            try await client.post("/v1/predict", headers: [.contentType: "image/png"], body: ByteBuffer(bytes: body))
        }
    }

    /// Waits (bounded) until `n` inputs are queued.
    static func waitForQueue(_ worker: InferenceWorker, _ n: Int) async throws {
        for _ in 0..<1000 {
            if worker.waitingInputs == n { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw Timeout()
    }

    /// Five distinct images.
    static let images: [RGBImage] = (0..<5).map { k in
        let g = ServeFixtures.gradient
        return k == 0 ? g : k == 1 ? g.flippedHorizontally() : g.cropped(x: 3 * k, y: 2 * k, width: 40 - 5 * k, height: 30 - 4 * k)
    }

    func testConcurrentRequestsShareOneBatchAndGetTheirOwnAnswers() async throws {
        var options = ServeOptions()
        options.port = 0
        let server = try PredictionServer(bundle: ServeFixtures.imageBundle(), options: options)
        let reference = try TrainedClassifier(bundle: ServeFixtures.imageBundle())
        let expected = try Self.images.map { try reference.predict(reference.batch(images: [$0]), top: 3)[0] }
        let bodies = Self.images.compactMap(PNGEncoder.encode)
        server.worker.pause()  // hold the model so all five are waiting together
        let answers = try await withServer(server) { port, _ in
            try await withThrowingTaskGroup(of: (Int, TestClient.Response).self) { group in
                for (i, body) in bodies.enumerated() { group.addTask { (i, try await Self.post(port, body)) } }
                try await Self.waitForQueue(server.worker, 5)
                server.worker.resume()
                var out = [Int: TestClient.Response]()
                for try await (i, r) in group { out[i] = r }
                return out
            }
        }
        XCTAssertEqual(server.metrics.batches.count, 1, "five queued requests run as one batch")
        XCTAssertEqual(server.metrics.batches.inputs, 5)
        for i in 0..<5 {
            let r = try XCTUnwrap(answers[i])
            XCTAssertEqual(r.status, .ok)
            let answer = try JSONDecoder().decode(SingleAnswer.self, from: Data(try XCTUnwrap(r.body).readableBytesView))
            assertSameLabels(answer.predictions, expected[i])
        }
    }

    func testFullQueueAnswers503WithRetryAfter() async throws {
        var options = ServeOptions()
        options.port = 0
        options.queueCapacity = 2
        let server = try PredictionServer(bundle: ServeFixtures.imageBundle(), options: options)
        let png = ServeFixtures.gradientPNG
        server.worker.pause()
        let statuses = try await withServer(server) { port, _ in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<2 { group.addTask { try await Self.post(port, png).status } }
                try await Self.waitForQueue(server.worker, 2)
                let refused = try await Self.post(port, png)
                XCTAssertEqual(refused.status, .serviceUnavailable)
                XCTAssertEqual(refused.headers[.retryAfter], "1")
                let error = try JSONDecoder().decode(ErrorAnswer.self, from: Data(try XCTUnwrap(refused.body).readableBytesView))
                XCTAssertTrue(error.error.contains("server busy"), error.error)
                server.worker.resume()
                var out: [HTTPResponse.Status] = []
                for try await s in group { out.append(s) }
                return out
            }
        }
        XCTAssertEqual(statuses, [.ok, .ok])
        XCTAssertEqual(server.metrics.requestCount(route: "/v1/predict", status: 503), 1)
        XCTAssertTrue(server.metrics.render().contains("graft_queue_rejections_total 1"))
    }

    func testGracefulShutdownFinishesRequestsInFlight() async throws {
        var options = ServeOptions()
        options.port = 0
        let server = try PredictionServer(bundle: ServeFixtures.imageBundle(), options: options)
        let png = ServeFixtures.gradientPNG
        server.worker.pause()
        let (status, refusedAfterShutdown) = try await withServer(server) { port, group in
            async let inFlight = Self.post(port, png)
            try await Self.waitForQueue(server.worker, 1)
            await group.triggerGracefulShutdown()
            // The listener closes while the request waits; new connections are refused.
            var refused = false
            for _ in 0..<100 where !refused {
                do {
                    _ = try await TestClient.withClient(host: "127.0.0.1", port: port) { try await $0.get("/healthz") }
                } catch { refused = true }
                if !refused { try await Task.sleep(for: .milliseconds(20)) }
            }
            server.worker.resume()
            return (try await inFlight.status, refused)
        }
        XCTAssertEqual(status, .ok, "the request in flight is answered")
        XCTAssertTrue(refusedAfterShutdown, "no new connections after shutdown began")
        XCTAssertEqual(server.metrics.batches.inputs, 1)
    }
}
