import DaybookCore
import Foundation

/// Checks every value of a ``Report/Request`` before it reaches SQL, in Daybook's words: the
/// command line, the API and the dashboard all pass through ``Report/fetch(_:from:)``, so a
/// value that PostgreSQL would refuse (or read leniently: `epoch`, `J2461011`) is refused here
/// once, as an ``DaybookError/Code/invalidArgument`` the API answers with 400, and no server
/// error's text reaches a client.
enum ReportInput {
    /// Dates and timestamps as the report's contract has them: `today`, `yesterday`, `tomorrow`,
    /// `infinity` and `-infinity` (an open end of a range), a date
    /// `YYYY-MM-DD`, or a timestamp `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]` with an optional offset
    /// (`Z`, `±HH`, `±HHMM`, `±HH:MM`, at most ±15:59 as PostgreSQL allows). Every field is
    /// checked against the calendar (no February 30th, no month 13).
    static func isMoment(_ text: String) -> Bool {
        if ["today", "yesterday", "tomorrow", "infinity", "-infinity"].contains(text) { return true }
        let bytes = Array(text.utf8)
        var reader = DigitReader(bytes: bytes)
        guard let year = reader.number(4), reader.skip("-"), let month = reader.number(2), reader.skip("-"),
            let day = reader.number(2), (1...9999).contains(year), (1...12).contains(month),
            (1...daysIn(month: month, year: year)).contains(day)
        else { return false }
        if reader.atEnd { return true }
        guard reader.skip("T") || reader.skip(" "), let hour = reader.number(2), reader.skip(":"),
            let minute = reader.number(2), hour < 24, minute < 60
        else { return false }
        if reader.skip(":") {
            // 60: a leap second, as RFC 3339 allows (PostgreSQL reads it as the next minute).
            guard let second = reader.number(2), second <= 60 else { return false }
            if reader.skip(".") {
                var digits = 0
                while reader.number(1) != nil { digits += 1 }
                guard (1...6).contains(digits) else { return false }
            }
        }
        if reader.atEnd || (reader.skip("Z") && reader.atEnd) { return true }
        guard reader.skip("+") || reader.skip("-"), let offsetHours = reader.number(2), offsetHours <= 15 else {
            return false
        }
        if reader.atEnd { return true }
        _ = reader.skip(":")
        guard let offsetMinutes = reader.number(2), offsetMinutes < 60 else { return false }
        return reader.atEnd
    }

    /// A moment with a time of day, not a day alone.
    static func isTimestamp(_ text: String) -> Bool { isMoment(text) && text.utf8.count > 10 }

    /// A key as the API and `report --events --key` take it: a JSON object that PostgreSQL can
    /// read as `jsonb` (which refuses `\u0000` and escapes of lone UTF-16 surrogates).
    static func isKeyObject(_ text: String) -> Bool {
        !hasUnreadableEscape(text) && DaybookJSON.decode(JSONValue.self, from: text)?.object != nil
    }

    /// Whether JSON text escapes what `jsonb` refuses: `\u0000`, or half of a UTF-16 surrogate pair.
    static func hasUnreadableEscape(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        var pendingHighSurrogate = false
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                if bytes[index + 1] == UInt8(ascii: "u"), index + 6 <= bytes.count,
                    let unit = UInt16(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16)
                {
                    switch unit {
                    case 0: return true
                    case 0xD800...0xDBFF:
                        if pendingHighSurrogate { return true }
                        pendingHighSurrogate = true
                    case 0xDC00...0xDFFF:
                        if !pendingHighSurrogate { return true }
                        pendingHighSurrogate = false
                    default:
                        if pendingHighSurrogate { return true }
                    }
                    index += 6
                    continue
                }
                if pendingHighSurrogate { return true }
                index += 2
                continue
            }
            if pendingHighSurrogate { return true }
            index += 1
        }
        return pendingHighSurrogate
    }

    /// Throws what is wrong with `request`, naming the value as the user gave it.
    static func check(_ request: Report.Request) throws(DaybookError) {
        let texts: [(String, String?)] = [
            ("slot", request.slot), ("time zone", request.timeZone), ("table", request.table), ("key", request.key),
            ("date", request.date), ("from", request.from), ("to", request.to), ("window start", request.windowStart),
            ("cursor", request.after?.table), ("cursor", request.after?.key),
        ]
        for case let (name, text?) in texts where text.utf8.contains(0) {
            throw DaybookError(.invalidArgument, "the \(name) contains a NUL character")
        }
        for case let (name, text?) in [
            ("from", request.from), ("to", request.to), ("window start", request.windowStart),
        ]
        where !isMoment(text) {
            throw DaybookError(
                .invalidArgument,
                "cannot read \(name) '\(text)' as a date: use YYYY-MM-DD, yesterday, today, or a timestamp such as 2026-12-05T08:00:00Z"
            )
        }
        if let date = request.date, !isMoment(date) || isTimestamp(date) || date.hasSuffix("infinity") {
            throw DaybookError(.invalidArgument, "cannot read '\(date)' as a date: use YYYY-MM-DD, yesterday or today")
        }
        if let key = request.key, !isKeyObject(key) {
            throw DaybookError(
                .invalidArgument,
                "the key \(key) is not a JSON object of the key's columns, such as {\"id\":\"42\"} (without \\u0000 or lone surrogates)"
            )
        }
        if let after = request.after {
            guard isTimestamp(after.windowStart), isTimestamp(after.firstChangeAt), isKeyObject(after.key)
            else {
                throw DaybookError(
                    .invalidArgument,
                    "the cursor is not one Daybook handed out: start again without it, or use next_cursor as given"
                )
            }
        }
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Reads fixed-width decimal fields and separators off ASCII bytes.
private struct DigitReader {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index == bytes.count }

    /// The next `width` bytes as a number, if they are all digits.
    mutating func number(_ width: Int) -> Int? {
        guard index + width <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<(index + width)] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        index += width
        return value
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }
}
