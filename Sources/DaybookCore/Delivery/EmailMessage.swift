import Foundation

/// A day's digest as an email (RFC 5322 with MIME): the text rendering and the HTML one as
/// `multipart/alternative`, so every mail client shows one of them; a UTF-8 subject (RFC 2047);
/// and a `Message-ID` made from the delivery's stable id, so that the one unavoidable repeat (a
/// crash after the server accepted the message and before the sink recorded it) carries the
/// same id and a mail system or a reader can tell it for what it is.
///
/// Pure: the moment and the boundary are given, so the same inputs make the same bytes. Lines
/// end in LF, as the `sendmail` interface that takes the message expects.
public struct EmailMessage: Sendable, Equatable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var messageID: String
    public var text: String
    public var html: String

    /// Builds the message for `digest`, delivered as `deliveryID` (``DeliveryID``).
    public init(digest: Digest, deliveryID: DeliveryID, from: String, to: [String], subjectTemplate: String) {
        self.from = from
        self.to = to
        self.subject = Self.subject(subjectTemplate, digest)
        self.messageID = deliveryID.messageID
        self.text = DigestFormat.text.render(digest)
        self.html = DigestFormat.html.render(digest)
    }

    /// The default subject: the day, the slot and the most urgent line of the headline.
    public static let defaultSubject = "Daybook {date}, {slot}: {headline}"

    /// The subject from a template: `{date}` the day, `{slot}` the slot (or slots), `{headline}`
    /// the most urgent line of the headline (and how many more there are), `{changes}` the
    /// day's changes.
    public static func subject(_ template: String, _ digest: Digest) -> String {
        let date = digest.date ?? digest.slots.first.map { String($0.window.start.prefix(10)) } ?? ""
        let lines = digest.slots.flatMap { DigestWords.headline($0) }.filter { $0 != "Nothing unusual." }
        let headline =
            lines.isEmpty
            ? "nothing unusual"
            : lines[0].trimmingCharacters(in: CharacterSet(charactersIn: "."))
                + (lines.count > 1 ? " (+\(lines.count - 1) more)" : "")
        let changes = DigestWords.number(digest.slots.reduce(0) { $0 + $1.headline.changes })
        return
            template
            .replacingOccurrences(of: "{date}", with: date)
            .replacingOccurrences(of: "{slot}", with: digest.slots.map(\.slot).joined(separator: ", "))
            .replacingOccurrences(of: "{headline}", with: headline)
            .replacingOccurrences(of: "{changes}", with: changes)
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    /// The message's bytes, as handed to the `sendmail` interface.
    public func rendered(date: Date, boundary: String) -> String {
        var lines = [
            "From: \(from)",
            // Folded: many recipients must not make a line past SMTP's 998 characters.
            "To: \(to.joined(separator: ",\n "))",
            "Subject: \(Self.encodedHeader(subject))",
            "Date: \(Self.dateHeader(date))",
            "Message-ID: \(messageID)",
            // RFC 3834: an automatic message, which auto-responders must not answer.
            "Auto-Submitted: auto-generated",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            "This is a MIME message: the digest as text and as HTML.",
            "",
        ]
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            lines += [
                "--\(boundary)",
                "Content-Type: \(type); charset=utf-8",
                // Base64: any line length and any character arrive as they were written.
                "Content-Transfer-Encoding: base64",
                "",
                Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed]),
                "",
            ]
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A header value as it may travel: as it is when it is short printable ASCII, else as
    /// RFC 2047 encoded words of UTF-8 (base64), never splitting a character, folded.
    public static func encodedHeader(_ value: String) -> String {
        let isPlain =
            value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && value.utf8.count <= 60
            && !value.contains("=?")
        if isPlain { return value }
        var words: [String] = []
        var chunk: [UInt8] = []
        // Code point by code point (RFC 2047: no character split across words); 39 bytes make
        // 52 base64 characters, so that `Subject: ` and the first word stay within 76.
        for scalar in value.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(encodedWord(chunk)) }
        return words.joined(separator: "\n ")
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }

    /// RFC 5322's date: `Mon, 07 Dec 2026 05:13:04 +0000`.
    static func dateHeader(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// Whether `address` is a plain address Daybook will put in a header (`name@host`, no
    /// display name, nothing that could end the header or start another).
    public static func isPlainAddress(_ address: String) -> Bool {
        // No control character at all: `$` of the pattern below also matches before a final
        // newline, which would end the header early.
        guard address.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value < 0x7F }) else { return false }
        return address.range(
            of: #"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$"#,
            options: .regularExpression
        )
            != nil
    }
}
