import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 (a free port), one request per
/// connection, for tests that must not leave the machine. Its handler decides
/// each reply, including replies cut off midway to simulate a dropped connection.
final class LoopbackServer: @unchecked Sendable {
    struct Request: Sendable {
        let method: String
        /// The request target: a path, or an absolute URI when the client talks to a proxy.
        let target: String
        let headers: [String: String]
        subscript(_ name: String) -> String? { headers[name.lowercased()] }
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body = Data()
        /// Send only this many body bytes, then close (the headers still promise all of them).
        var cutAfter: Int? = nil
    }

    private let listener: Int32
    let port: UInt16
    private let handler: @Sendable (Request) -> Reply
    private let lock = NSLock()
    private var log: [Request] = []
    private var stopped = false
    private let finished = DispatchGroup()

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { lock.withLock { log } }

    init(handler: @escaping @Sendable (Request) -> Reply) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        finished.enter()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        _ = finished.wait(timeout: .now() + 5)
    }

    private func acceptLoop() {
        defer { finished.leave() }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { if lock.withLock({ stopped }) { return } else { continue } }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        // Requests here have no body: read up to the blank line (bounded at 64 KiB).
        while received.range(of: Data("\r\n\r\n".utf8)) == nil, received.count < 65536 {
            let n = recv(client, &chunk, chunk.count, 0)
            guard n > 0 else { return }
            received.append(chunk, count: n)
        }
        guard let end = received.range(of: Data("\r\n\r\n".utf8)) else { return }
        let lines = String(decoding: received[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ").map(String.init)
        guard parts.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(method: parts[0], target: parts[1], headers: headers)
        lock.withLock { log.append(request) }
        let reply = handler(request)
        var head = "HTTP/1.1 \(reply.status) \(Self.reason(reply.status))\r\n"
        var sentLength = false
        for (k, v) in reply.headers {
            head += "\(k): \(v)\r\n"
            if k.lowercased() == "content-length" { sentLength = true }
        }
        if !sentLength { head += "Content-Length: \(reply.body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        var out = Data(head.utf8)
        if request.method != "HEAD" { out.append(reply.cutAfter.map { reply.body.prefix($0) } ?? reply.body) }
        out.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(client, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                sent += n
            }
        }
    }

    static func reason(_ status: Int) -> String {
        [200: "OK", 206: "Partial Content", 302: "Found", 307: "Temporary Redirect", 401: "Unauthorized",
         403: "Forbidden", 404: "Not Found", 416: "Range Not Satisfiable", 429: "Too Many Requests"][status] ?? "Status"
    }

    /// A file's bytes as a server that honours `Range: bytes=N-` sends them.
    static func serve(_ data: Data, request: Request, headers: [(String, String)] = []) -> Reply {
        if let range = request["Range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
           let start = Int(range.dropFirst(6).dropLast()) {
            guard start < data.count else { return Reply(status: 416, headers: [("Content-Range", "bytes */\(data.count)")]) }
            return Reply(status: 206, headers: headers + [("Content-Range", "bytes \(start)-\(data.count - 1)/\(data.count)"),
                                                           ("Content-Length", "\(data.count - start)")],
                         body: data.subdata(in: start..<data.count))
        }
        return Reply(status: 200, headers: headers + [("Content-Length", "\(data.count)"), ("Accept-Ranges", "bytes")], body: data)
    }
}
