import Foundation

/// Single weight files: torchvision's ImageNet state dicts (into torch hub's
/// checkpoint folder, where `torch.hub.load_state_dict_from_url` looks) and any
/// other `https://` URL (into Graft's own download cache).
public struct WeightFileDownloads: Sendable {
    public let environment: HubEnvironment
    public let client: HTTPClient

    public init(environment: HubEnvironment = HubEnvironment(), client: HTTPClient = HTTPClient()) {
        self.environment = environment; self.client = client
    }

    /// The local file of torchvision's `weights`, downloaded and hash-checked if missing.
    public func torchvision(_ weights: TorchvisionWeights) throws -> URL {
        let destination = environment.torchCheckpoints.appendingPathComponent(weights.file)
        if FileManager.default.fileExists(atPath: destination.path) { return destination }
        guard !environment.offline else {
            throw HubError.notCached(reference: "torchvision:\(weights.name)", looked: [destination.path])
        }
        let url = environment.torchvisionBaseURL.appendingPathComponent(weights.file)
        let expected = TorchvisionWeights.hashPrefix(inFileName: weights.file).map(ExpectedContent.sha256Prefix) ?? .unchecked
        try fetch(url, to: destination, expected: expected)
        return destination
    }

    /// The local copy of a weights file URL. A `#sha256=HEX` fragment, or a
    /// torch.hub-style `name-HASHPREFIX.ext` file name, is checked.
    public func file(at url: URL) throws -> URL {
        let name = url.lastPathComponent
        let prefix = TorchvisionWeights.hashPrefix(inFileName: name)
        // A hash-named file torch hub already has is the same file.
        let torchCopy = environment.torchCheckpoints.appendingPathComponent(name)
        if prefix != nil, FileManager.default.fileExists(atPath: torchCopy.path) { return torchCopy }
        var source = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let fragment = source?.fragment
        source?.fragment = nil
        let plain = source?.url ?? url
        let key = String(SHA256.hex(of: Data(plain.absoluteString.utf8)).prefix(16))
        let destination = environment.graftDownloads.appendingPathComponent("\(key)/\(name)")
        if FileManager.default.fileExists(atPath: destination.path) { return destination }
        guard !environment.offline else {
            throw HubError.notCached(reference: url.absoluteString, looked: prefix != nil ? [torchCopy.path, destination.path] : [destination.path])
        }
        var expected = prefix.map(ExpectedContent.sha256Prefix) ?? .unchecked
        if let fragment, fragment.hasPrefix("sha256=") { expected = .sha256(String(fragment.dropFirst(7))) }
        try fetch(plain, to: destination, expected: expected)
        return destination
    }

    private func fetch(_ url: URL, to destination: URL, expected: ExpectedContent) throws {
        let lock = environment.graftDownloads.appendingPathComponent(".locks/\(destination.lastPathComponent).lock")
        do {
            try VerifiedDownload(client: client, showsProgress: environment.showsProgress)
                .fetch(url, to: destination, lockFile: lock, expected: expected, label: destination.lastPathComponent)
        } catch let failure as TransferFailure {
            throw HubError.network(url: url.absoluteString, reason: failure.reason)
        }
    }
}
