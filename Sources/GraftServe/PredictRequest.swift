import Foundation
import Synchronization
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
                      options: ServeOptions, decodes: DecodeGate) async throws -> PredictRequest {
        let media = contentType.map { $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "" } ?? ""
        let isJSON = media == "application/json" || media.hasSuffix("+json")
        let isImage = imageTypes.contains(media)
        switch classifier.input {
        case .image:
            guard isImage else {
                throw ServeError.unsupportedMediaType("this bundle classifies images: send the image as image/jpeg, image/png or application/octet-stream (got \(media.isEmpty ? "no Content-Type" : media))")
            }
            let top = try validTop(query, options: options)
            return PredictRequest(input: try await decodeImage(body, classifier: classifier, options: options, decodes: decodes), top: top, shape: .single)
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
    /// loop through `decodes` (bounded by count and by memory), answering
    /// within `decodeTimeout` of now (an abandoned decode finishes in the
    /// background and is dropped).
    static func decodeImage(_ body: ByteBuffer, classifier: TrainedClassifier, options: ServeOptions,
                            decodes: DecodeGate) async throws -> InferenceWorker.Input {
        let deadline = ContinuousClock.now + options.decodeTimeout
        let bytes = Array(body.readableBytesView)
        guard !bytes.isEmpty else { throw ServeError.badRequest("empty body: send the image bytes") }
        let prep = classifier.preprocessing ?? Preprocessing(inputSize: 224)
        let cost: Int
        if let d = ImageHeader.dimensions(bytes) {
            let (pixels, overflow) = d.width.multipliedReportingOverflow(by: d.height)
            if overflow || pixels > options.maxImagePixels {
                throw ServeError.tooLarge("image of \(d.width)x\(d.height) pixels exceeds the limit of \(options.maxImagePixels) pixels")
            }
            cost = DecodeGate.cost(width: d.width, height: d.height, side: prep.inputSize, bodyBytes: bytes.count)
        } else {
            // Not a readable PNG/JPEG header: the decoder refuses such bytes early, so a small charge.
            cost = DecodeGate.cost(width: 0, height: 0, side: prep.inputSize, bodyBytes: bytes.count) * 2
        }
        let limit = "\(Int(InferenceWorker.seconds(options.decodeTimeout) * 1000)) ms"
        let pixels = try await decodes.run(cost: cost, deadline: deadline, limitDescription: limit) { () throws -> [Float] in
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
final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var pending: Result<T, any Error>?
        var done = false
    }

    private let state = Mutex(State())

    func set(_ c: CheckedContinuation<T, any Error>) {
        let pending: Result<T, any Error>? = state.withLock { s in
            if s.pending == nil { s.continuation = c }
            return s.pending
        }
        if let pending { c.resume(with: pending) }
    }

    func resume(_ result: Result<T, any Error>) {
        let waiting: CheckedContinuation<T, any Error>?? = state.withLock { s in
            guard !s.done else { return .none }
            s.done = true
            if let c = s.continuation { s.continuation = nil; return .some(c) }
            s.pending = result
            return .some(nil)
        }
        if case .some(.some(let c)) = waiting { c.resume(with: result) }
    }
}
