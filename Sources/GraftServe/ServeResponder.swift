import Foundation
import Hummingbird

/// Wraps the router: every error becomes a JSON `{"error": "..."}` body
/// (404s and 405s included), and every answer is counted and timed in
/// `ServeMetrics`.
public struct ServeResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    public typealias Context = BasicRequestContext
    let inner: Inner
    let metrics: ServeMetrics

    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await inner.respond(to: request, context: context)
        } catch let error as ServeError {
            response = try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            response = JSONBody.response(["error": Self.message(error)], status: error.status)
        } catch {
            response = JSONBody.response(["error": "internal error: \(error)"], status: .internalServerError)
        }
        if response.status.code >= 400 && (response.body.contentLength ?? 0) == 0 {
            let message = response.status == .notFound ? "no route \(request.method) \(request.uri.path)" : response.status.reasonPhrase
            let headers = response.headers
            response = JSONBody.response(["error": message], status: response.status)
            for field in headers where field.name != .contentType && field.name != .contentLength { response.headers.append(field) }
        }
        metrics.recordRequest(path: request.uri.path, status: response.status.code,
                              seconds: InferenceWorker.seconds(start.duration(to: .now)))
        return response
    }

    static func message(_ error: any HTTPResponseError) -> String {
        if let e = error as? HTTPError, let body = e.body { return body }
        return error.status.reasonPhrase
    }
}
