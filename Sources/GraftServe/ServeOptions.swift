/// Limits and batching of `graft serve`.
public struct ServeOptions: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes = 8 * 1024 * 1024
    /// Largest decoded image, in pixels (413 above it), checked from the header before decoding.
    public var maxImagePixels = 40_000_000
    /// Longest time decoding and preprocessing one image may take (422 after it).
    public var decodeTimeout: Duration = .seconds(2)
    /// Most inputs (images or texts) run through the model together.
    public var maxBatch = 16
    /// How long the worker waits for more requests to fill a batch after the first arrives.
    public var maxBatchWait: Duration = .milliseconds(5)
    /// Most inputs waiting for the model; beyond it requests get 503 with Retry-After.
    public var queueCapacity = 256
    /// Most texts in one request.
    public var maxTextsPerRequest = 64
    /// Longest text accepted, in characters (the tokenizer truncates to the model's length anyway).
    public var maxTextCharacters = 20_000
    /// Default and largest `top`.
    public var defaultTop = 5
    public var maxTop = 100

    public init() {}
}
