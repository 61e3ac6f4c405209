import Foundation
import Hummingbird

/// A request the server refuses or could not complete, answered with its
/// status and a JSON body `{"error": "..."}`.
public struct ServeError: HTTPResponseError, CustomStringConvertible, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Extra headers (Retry-After on 503).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status; self.message = message; self.headers = headers
    }

    public var description: String { "\(status.code) \(status.reasonPhrase): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONBody.response(["error": message], status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    static func badRequest(_ m: String) -> ServeError { ServeError(.badRequest, m) }
    static func unsupportedMediaType(_ m: String) -> ServeError { ServeError(.unsupportedMediaType, m) }
    static func tooLarge(_ m: String) -> ServeError { ServeError(.contentTooLarge, m) }
    static func unprocessable(_ m: String) -> ServeError { ServeError(.unprocessableContent, m) }
    static func queueFull(waiting: Int) -> ServeError {
        ServeError(.serviceUnavailable, "server busy: \(waiting) inputs already wait for the model; retry shortly",
                   headers: [.retryAfter: "1"])
    }
    static let shuttingDown = ServeError(.serviceUnavailable, "server is shutting down", headers: [.retryAfter: "5"])
}

/// JSON responses with sorted keys, so the same answer is the same bytes.
enum JSONBody {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"could not encode the response"}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
