import Foundation
import GraftWeights
#if canImport(Glibc)
import Glibc
#endif

/// Replaces a directory with a new one so that its path holds the old or the
/// new directory at every instant, never a mix and never nothing: the new one
/// is written beside it (`.NAME.partial-*`), then the two are exchanged in one
/// `renameat2(RENAME_EXCHANGE)` and the old one removed. Where the kernel or
/// file system lacks the exchange, the old one is first renamed aside
/// (`.NAME.old-*`) and the new one renamed in; a kill between the two renames
/// is repaired by `sweep`, which every writer and reader runs first.
public enum AtomicDirectory {
    /// A fresh staging path beside `target`.
    public static func stagingURL(for target: URL) -> URL {
        target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())-\(UUID().uuidString)")
    }

    /// Writes a directory through `body` into a staging folder, then puts it at `target`.
    public static func write(_ target: URL, _ body: (URL) throws -> Void) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        sweep(beside: target)
        let staged = stagingURL(for: target)
        try fm.createDirectory(at: staged, withIntermediateDirectories: true)
        do {
            try body(staged)
            try replace(target, with: staged)
        } catch {
            try? fm.removeItem(at: staged)
            throw error
        }
    }

    /// Moves `staged` to `target`, replacing what is there atomically.
    public static func replace(_ target: URL, with staged: URL) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: target.path) {
            do {
                try fm.moveItem(at: staged, to: target)
                return
            } catch where fm.fileExists(atPath: target.path) {
                // Another writer put a directory there since the check: replace it like any old one.
            }
        }
        if exchange(staged.path, target.path) {
            try? fm.removeItem(at: staged)   // now holds the old directory
            return
        }
        let aside = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).old-\(UUID().uuidString)")
        try fm.moveItem(at: target, to: aside)
        try fm.moveItem(at: staged, to: target)
        try? fm.removeItem(at: aside)
    }

    /// Removes staging folders a killed writer left beside `target`, and puts an old directory back
    /// when a kill fell between the two renames of the fallback.
    public static func sweep(beside target: URL) {
        let fm = FileManager.default
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        for entry in (try? fm.contentsOfDirectory(atPath: parent.path)) ?? [] {
            let url = parent.appendingPathComponent(entry)
            if entry.hasPrefix(".\(name).old-") && !fm.fileExists(atPath: target.path) {
                try? fm.moveItem(at: url, to: target)
            } else if entry.hasPrefix(".\(name).old-") {
                try? fm.removeItem(at: url)
            } else if entry.hasPrefix(".\(name).partial-") {
                // A live writer (another process, or this one) owns its partial folder; a killed one's goes.
                let pid = Int32(entry.dropFirst(".\(name).partial-".count).prefix { $0 != "-" }) ?? 0
                let alive = pid > 0 && AtomicFile.processExists(pid)
                if !alive { try? fm.removeItem(at: url) }
            }
        }
    }

    /// `renameat2(from, to, RENAME_EXCHANGE)`, looked up at run time (Swift's Glibc module does not declare it).
    static func exchange(_ a: String, _ b: String) -> Bool {
        #if os(Linux)
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 1 << 1
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
        #else
        return false
        #endif
    }
}
