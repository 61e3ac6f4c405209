/// RFC 4180 CSV: comma separated, records end with LF or CRLF, fields may be
/// quoted with `"`, a quote inside a quoted field is doubled (`""`), and quoted
/// fields may span lines. A UTF-8 byte-order mark is skipped. Text after a
/// closing quote (`"ab"c`) and a quote left open at the end are errors.
public struct CSVReader {
    public struct Record {
        /// 1-based line on which the record starts.
        public let line: Int
        public let fields: [String]
    }

    public enum Failure: Error, Equatable {
        case malformed(line: Int, reason: String)
    }

    public static func parse(_ bytes: [UInt8]) throws(Failure) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1, recordLine = 1, fieldLine = 1
        var inQuotes = false, wasQuoted = false, quoteLine = 1
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

        func endField() throws(Failure) {
            if let bad = UTF8Check.firstInvalidOffset(field) {
                // A quoted field may span lines: name the line of the bad byte.
                let line = fieldLine + field.prefix(bad).filter { $0 == lf }.count
                throw .malformed(line: line, reason: UTF8Check.reason(field, at: bad) + " in field \(fields.count + 1)")
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            wasQuoted = false
            fieldLine = line
        }
        func endRecord() throws(Failure) {
            try endField()
            // A blank line is not a record.
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }

        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote { field.append(quote); i += 2; continue }
                    inQuotes = false
                    wasQuoted = true
                } else {
                    if b == lf { line += 1 }
                    field.append(b)
                }
                i += 1
                continue
            }
            switch b {
            case comma:
                try endField()
            case lf, cr:
                try endRecord()
                if b == cr && i + 1 < bytes.count && bytes[i + 1] == lf { i += 1 }
                line += 1
                recordLine = line
                fieldLine = line
            case quote where field.isEmpty && !wasQuoted:
                inQuotes = true
                quoteLine = line
            default:
                if wasQuoted {
                    throw .malformed(line: line, reason: "text after the closing quote of a field")
                }
                if b == quote { throw .malformed(line: line, reason: "quote inside an unquoted field") }
                field.append(b)
            }
            i += 1
        }
        if inQuotes { throw .malformed(line: quoteLine, reason: "quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { try endRecord() }
        return records
    }
}
