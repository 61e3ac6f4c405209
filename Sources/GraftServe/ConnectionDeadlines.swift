import NIOCore
import NIOHTTPTypes

/// Read deadlines of one HTTP/1 connection, so no client holds a connection
/// (or the server's shutdown) open by being slow:
///
/// - idle: no request in progress and no byte of a new one for `idle`;
/// - header: a request's head not complete `header` after its first byte;
/// - body: a request's body not complete `body` after its head.
///
/// Hummingbird's own idle timeout restarts on every body chunk, so a client
/// trickling a body was never timed out, and SIGTERM waited for it forever.
/// A late body is failed into the request's body stream (the handler answers
/// 408 if it still can) and the connection is closed. Nothing is timed while
/// the server itself works on a request: `decodeTimeout`, the queue bound and
/// the shutdown grace period bound that.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var idle: TimeAmount
        var header: TimeAmount
        var body: TimeAmount
    }

    /// Failed into the request body stream when the body is late.
    struct BodyTimeout: Error {}

    private let limits: Limits
    private let onTimeout: @Sendable (String) -> Void
    private var context: ChannelHandlerContext?
    /// Request heads read whose responses have not ended.
    private var openRequests = 0
    private var readingBody = false
    /// When the connection became idle, or when the current body started.
    private var phaseStart = NIODeadline.now()
    /// First byte of a request whose head is not complete yet.
    private var firstByte: NIODeadline?
    private var timer: Scheduled<Void>?

    init(limits: Limits, onTimeout: @escaping @Sendable (String) -> Void) {
        self.limits = limits
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        phaseStart = .now()
        // Bytes are only visible before the HTTP decoder: a watcher at the front reports them.
        try? context.pipeline.syncOperations.addHandler(ByteArrivalWatch { [weak self] in self?.bytesArrived() }, position: .first)
        reschedule()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            openRequests += 1
            readingBody = true
            phaseStart = .now()
            firstByte = nil
            reschedule()
        case .body:
            break
        case .end:
            readingBody = false
            reschedule()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            openRequests = max(0, openRequests - 1)
            if openRequests == 0 {
                phaseStart = .now()
                // Bytes of the next request that came while this one was answered start their clock now.
                if firstByte != nil { firstByte = .now() }
                reschedule()
            }
        }
        context.write(data, promise: promise)
    }

    private func bytesArrived() {
        guard !readingBody, openRequests == 0, firstByte == nil else { return }
        firstByte = .now()
        reschedule()
    }

    /// The next deadline and what it limits; nil while the server works on a request.
    private var deadline: (at: NIODeadline, kind: String)? {
        if readingBody { return (phaseStart + limits.body, "body") }
        if openRequests > 0 { return nil }
        if let firstByte { return (firstByte + limits.header, "header") }
        return (phaseStart + limits.idle, "idle")
    }

    private func reschedule() {
        timer?.cancel()
        timer = nil
        guard let context, let next = deadline else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next.at) { [weak self] in self?.fire() }
    }

    private func fire() {
        timer = nil
        guard let context, let due = deadline else { return }
        guard NIODeadline.now() >= due.at else { return reschedule() }
        onTimeout(due.kind)
        if due.kind == "body" { context.fireErrorCaught(BodyTimeout()) }
        context.close(promise: nil)
    }
}

/// Reports every read of raw bytes (before HTTP decoding) to its owner.
final class ByteArrivalWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let arrived: () -> Void

    init(_ arrived: @escaping () -> Void) { self.arrived = arrived }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arrived()
        context.fireChannelRead(data)
    }
}
