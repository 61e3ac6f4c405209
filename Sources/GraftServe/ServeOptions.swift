import Foundation

/// Limits and batching of `graft serve`.
public struct ServeOptions: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes = 8 * 1024 * 1024
    /// Largest decoded image, in pixels (413 above it), checked from the header before decoding.
    public var maxImagePixels = 40_000_000
    /// Longest time one image may spend waiting for a decode slot plus decoding and
    /// preprocessing, counted from when its body has arrived: 422 when the decode itself
    /// overran, 503 (Retry-After) when it never got a slot. Holds however many requests arrive.
    public var decodeTimeout: Duration = .seconds(2)
    /// Most images decoded at once (the rest wait, FIFO, within their `decodeTimeout`).
    public var maxConcurrentDecodes = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// Most bytes of decoded pixels in flight (decode buffers, estimated from the header's
    /// width and height before decoding); an image that alone needs more gets 413.
    public var decodeMemoryBytes = 512 * 1024 * 1024
    /// A connection with no request in progress (and no bytes of a new one) is closed after this.
    public var idleTimeout: Duration = .seconds(60)
    /// A request's head must arrive complete within this, counted from its first byte.
    public var headerTimeout: Duration = .seconds(10)
    /// A request's body must arrive complete within this, counted from the end of its head.
    public var bodyTimeout: Duration = .seconds(30)
    /// After SIGTERM/SIGINT, requests in flight get this long to finish; then every
    /// connection is closed and the process exits.
    public var shutdownGrace: Duration = .seconds(10)
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
