/// What is wrong with a Darknet `.cfg` file, naming the file, the line and the section.
///
/// `.weights` files report through `WeightsError` like every other weights format; the cfg is
/// text, so its errors point at lines.
public enum DarknetConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read, or is not UTF-8 text.
    case cannotRead(file: String, reason: String)
    /// A line is neither `[section]`, `key=value`, a comment nor blank.
    case syntax(file: String, line: Int, reason: String)
    /// A section's option is missing, malformed or out of range, or the layers do not fit together.
    /// `section` reads like `[route] (layer 12)`; `line` is the option's line (the header's when
    /// the option is missing).
    case invalid(file: String, section: String, line: Int, reason: String)
    /// A legitimate Darknet feature that Graft does not implement.
    case unsupported(file: String, section: String, line: Int, feature: String)

    public var description: String {
        switch self {
        case let .cannotRead(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .syntax(file, line, reason):
            return "\(file):\(line): \(reason)"
        case let .invalid(file, section, line, reason):
            return "\(file):\(line): \(section): \(reason)"
        case let .unsupported(file, section, line, feature):
            return "\(file):\(line): \(section): \(feature) is not supported"
        }
    }
}
