import Foundation
import GraftData
import GraftTransfer
import Hummingbird

/// Turns the body of `POST /v1/predict` into model inputs, refusing what
/// cannot be served with the right 4xx: wrong content type (415), too large
/// (413), malformed JSON or empty texts (400), corrupt images (422).
struct PredictRequest {
    enum Shape { case single, many }

    var input: InferenceWorker.Input
    var top: Int
    /// `{"texts": [...]}` answers a list; an image or `{"text": ...}` one prediction.
    var shape: Shape

    /// The JSON body of a text request.
    struct TextBody: Decodable {
        var text: String?
        var texts: [String]?
        var top: Int?
    }

    static let imageTypes: Set<String> = ["image/jpeg", "image/jpg", "image/png", "application/octet-stream"]

    static func parse(contentType: String?, body: ByteBuffer, query: Int?, classifier: TrainedClassifier,
                      options: ServeOptions) async throws -> PredictRequest {
        let media = contentType.map { $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "" } ?? ""
        let isJSON = media == "application/json" || media.hasSuffix("+json")
        let isImage = imageTypes.contains(media)
        switch classifier.input {
        case .image:
            guard isImage else {
                throw ServeError.unsupportedMediaType("this bundle classifies images: send the image as image/jpeg, image/png or application/octet-stream (got \(media.isEmpty ? "no Content-Type" : media))")
            }
            let top = try validTop(query, options: options)
            return PredictRequest(input: try await decodeImage(body, classifier: classifier, options: options), top: top, shape: .single)
        case .text:
            guard isJSON else {
                throw ServeError.unsupportedMediaType("this bundle classifies texts: send application/json {\"text\": ...} or {\"texts\": [...]} (got \(media.isEmpty ? "no Content-Type" : media))")
            }
            let parsed: TextBody
            do { parsed = try JSONDecoder().decode(TextBody.self, from: Data(body.readableBytesView)) } catch {
                throw ServeError.badRequest("malformed JSON: \(Self.explain(error))")
            }
            let top = try validTop(parsed.top ?? query, options: options)
            switch (parsed.text, parsed.texts) {
            case (.some, .some): throw ServeError.badRequest("send either \"text\" or \"texts\", not both")
            case (nil, nil): throw ServeError.badRequest("the JSON object needs \"text\" (a string) or \"texts\" (a list of strings)")
            case (let text?, nil):
                try check([text], options: options)
                return PredictRequest(input: .texts([text]), top: top, shape: .single)
            case (nil, let texts?):
                guard !texts.isEmpty else { throw ServeError.badRequest("\"texts\" is empty") }
                guard texts.count <= options.maxTextsPerRequest else {
                    throw ServeError.tooLarge("\(texts.count) texts in one request; at most \(options.maxTextsPerRequest)")
                }
                try check(texts, options: options)
                return PredictRequest(input: .texts(texts), top: top, shape: .many)
            }
        }
    }

    static func validTop(_ top: Int?, options: ServeOptions) throws -> Int {
        let t = top ?? options.defaultTop
        guard t >= 1 && t <= options.maxTop else { throw ServeError.badRequest("top must be between 1 and \(options.maxTop) (got \(t))") }
        return t
    }

    static func check(_ texts: [String], options: ServeOptions) throws {
        for (i, t) in texts.enumerated() {
            let name = texts.count == 1 ? "text" : "text \(i)"
            if t.allSatisfy(\.isWhitespace) { throw ServeError.badRequest("\(name) is empty") }
            if t.count > options.maxTextCharacters {
                throw ServeError.tooLarge("\(name) has \(t.count) characters; at most \(options.maxTextCharacters)")
            }
        }
    }

    /// Checks the header's size, then decodes and preprocesses off the event
    /// loop, giving up after `decodeTimeout` (the abandoned work finishes in
    /// the background and is dropped).
    static func decodeImage(_ body: ByteBuffer, classifier: TrainedClassifier, options: ServeOptions) async throws -> InferenceWorker.Input {
        let bytes = Array(body.readableBytesView)
        guard !bytes.isEmpty else { throw ServeError.badRequest("empty body: send the image bytes") }
        if let d = ImageHeader.dimensions(bytes), d.width * d.height > options.maxImagePixels {
            throw ServeError.tooLarge("image of \(d.width)x\(d.height) pixels exceeds the limit of \(options.maxImagePixels) pixels")
        }
        let prep = classifier.preprocessing ?? Preprocessing(inputSize: 224)
        let pixels = try await withTimeout(options.decodeTimeout) { () throws -> [Float] in
            let decoded = Result { () throws(ImageError) -> RGBImage in try ImageDecoder().decode(Data(bytes), source: "request body") }
            switch decoded {
            case .success(let image): return prep.apply(image)
            case .failure(let error):
                switch error {
                case .unsupportedFormat: throw ServeError.unsupportedMediaType("\(error)")
                case .tooLarge: throw ServeError.tooLarge("\(error)")
                default: throw ServeError.unprocessable("\(error)")
                }
            }
        }
        return .images(pixels: pixels, count: 1, side: prep.inputSize)
    }

    /// Runs `work` on a GCD thread; throws 422 if it has not finished after `limit`.
    static func withTimeout<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let once = ResumeOnce<T>()
        return try await withCheckedThrowingContinuation { continuation in
            once.set(continuation)
            DispatchQueue.global().async { once.resume(Result { try work() }) }
            let seconds = InferenceWorker.seconds(limit)
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                once.resume(.failure(ServeError.unprocessable("decoding the image took longer than \(Int(seconds * 1000)) ms")))
            }
        }
    }

    /// A short, plain reason for a JSON decoding error.
    static func explain(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        switch e {
        case .dataCorrupted(let c): return (c.underlyingError.map { "\($0.localizedDescription)" } ?? c.debugDescription)
        case .typeMismatch(let type, let c): return "\(path(c)) should be \(type == String.self ? "a string" : type == Int.self ? "an integer" : "\(type)")"
        case .valueNotFound(_, let c): return "\(path(c)) is null"
        case .keyNotFound(let k, _): return "missing \(k.stringValue)"
        @unknown default: return "\(e)"
        }
    }

    private static func path(_ c: DecodingError.Context) -> String {
        let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "the body" : "\"\(p)\""
    }
}

/// Resumes a continuation once, whichever of the work or the timer comes first.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var pending: Result<T, any Error>?
    private var done = false

    func set(_ c: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let pending { lock.unlock(); c.resume(with: pending); return }
        continuation = c
        lock.unlock()
    }

    func resume(_ result: Result<T, any Error>) {
        lock.lock()
        guard !done else { lock.unlock(); return }
        done = true
        if let c = continuation { continuation = nil; lock.unlock(); c.resume(with: result); return }
        pending = result
        lock.unlock()
    }
}
