import Foundation

/// Why a model could not be found, fetched or trusted. Each case names the
/// reference, URL or file involved and, where there is one, what to do next.
public enum HubError: Error, CustomStringConvertible, Equatable {
    case invalidReference(String, reason: String)
    case unknownTorchvisionModel(String, available: [String])
    /// HTTP 401: no token, or one the server refused (the Hub also answers 401 for a repository that does not exist).
    case unauthorized(url: String, hadToken: Bool)
    /// HTTP 403: gated or forbidden.
    case forbidden(url: String, message: String?)
    /// HTTP 404 (the Hub says which: repository, revision or file).
    case notFound(url: String, what: String)
    /// HTTP 429.
    case rateLimited(url: String, retryAfter: String?)
    case httpStatus(Int, url: String)
    case network(url: String, reason: String)
    case hashMismatch(file: String, expected: String, actual: String)
    case sizeMismatch(file: String, expected: Int64, actual: Int64)
    case missingMetadata(url: String, header: String)
    /// Offline (GRAFT_OFFLINE / HF_HUB_OFFLINE) and the model is not in any cache.
    case notCached(reference: String, looked: [String])
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidReference(r, why): return "invalid model reference '\(r)': \(why)"
        case let .unknownTorchvisionModel(m, a): return "torchvision:\(m) is not one Graft can load; available: \(a.joined(separator: ", "))"
        case let .unauthorized(u, hadToken):
            return hadToken
                ? "401 Unauthorized for \(u): the token in HF_TOKEN was refused, or the repository does not exist"
                : "401 Unauthorized for \(u): the repository is private, gated or does not exist; set HF_TOKEN (huggingface.co/settings/tokens)"
        case let .forbidden(u, m): return "403 Forbidden for \(u)\(m.map { ": \($0)" } ?? ""); for a gated model, accept its terms on the Hub and set HF_TOKEN"
        case let .notFound(u, what): return "404 Not Found: \(what) (\(u))"
        case let .rateLimited(u, after): return "429 Too Many Requests from \(u)\(after.map { "; retry after \($0) s" } ?? ""); set HF_TOKEN for higher limits"
        case let .httpStatus(s, u): return "HTTP \(s) from \(u)"
        case let .network(u, why): return "cannot reach \(u): \(why) (offline? cached models load with GRAFT_OFFLINE=1)"
        case let .hashMismatch(f, e, a): return "\(f): SHA-256 \(a) does not match the expected \(e); the download was discarded"
        case let .sizeMismatch(f, e, a): return "\(f): \(a) bytes, expected \(e); the download was discarded"
        case let .missingMetadata(u, h): return "\(u) answered without \(h); is HF_ENDPOINT a Hugging Face Hub?"
        case let .notCached(r, looked): return "\(r) is not in the local caches and downloads are off (GRAFT_OFFLINE or HF_HUB_OFFLINE); looked in: \(looked.joined(separator: ", "))"
        case let .io(p, why): return "\(p): \(why)"
        }
    }
}
