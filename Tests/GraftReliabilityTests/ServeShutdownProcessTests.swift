import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `graft serve` must exit within its grace period after SIGTERM even while a
/// client trickles a request body (before: it waited for that client forever).
final class ServeShutdownProcessTests: XCTestCase {
    /// A loopback TCP connection that sends what it is told.
    final class Client: @unchecked Sendable {
        let fd: Int32
        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { close(fd); throw NSError(domain: "graft", code: 3, userInfo: [NSLocalizedDescriptionKey: "cannot connect to port \(port)"]) }
        }
        deinit { close(fd) }
        @discardableResult
        func send(_ text: String) -> Bool { text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } > 0 }
    }

    /// The port `graft serve --port 0` announces on stderr.
    static func announcedPort(_ server: GraftProcess.Running, within seconds: Double) -> Int? {
        let end = Date(timeIntervalSinceNow: seconds)
        while Date() < end && server.process.isRunning {
            if let r = server.log.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                return Int(server.log[r].split(separator: ":").last!)
            }
            usleep(50_000)
        }
        return nil
    }

    func testSIGTERMWithATricklingClientExitsWithinTheGracePeriod() throws {
        let dir = try GraftProcess.temporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trained = try GraftProcess.run(["train", "--from-scratch", "--data", "digits", "--epochs", "1", "--per-class", "2",
                                            "--quiet", "--out", "digits.bundle"], in: dir, name: "train")
        XCTAssertEqual(trained.status, 0, trained.log)

        let server = try GraftProcess.Running(["serve", "--bundle", "digits.bundle", "--port", "0", "--shutdown-grace-s", "1",
                                               "--body-timeout-s", "600"], in: dir, name: "serve")
        defer { if server.process.isRunning { server.kill(SIGKILL); _ = server.wait(upTo: 5) } }
        let port = try XCTUnwrap(Self.announcedPort(server, within: 120), server.log)
        let client = try Client(port: port)
        client.send("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n")
        let stop = ManagedAtomicFlag()
        Thread.detachNewThread { while !stop.isSet && client.send("x") { usleep(100_000) } }
        defer { stop.set() }
        usleep(500_000)

        let start = Date()
        server.kill(SIGTERM)
        let status = server.wait(upTo: 15)
        let took = Date().timeIntervalSince(start)
        XCTAssertNotNil(status, "graft serve still running 15 s after SIGTERM with a 1 s grace period:\n\(server.log)")
        XCTAssertLessThan(took, 5, "exit took \(took) s")
        XCTAssertEqual(status, 0, server.log)
        XCTAssertTrue(server.log.contains("graft serve: stopped"), server.log)
    }
}

/// A flag one thread sets and another polls.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
