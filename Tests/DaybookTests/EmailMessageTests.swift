import Foundation
import Testing
import Windowing

@testable import DaybookCore

/// The email's form, with values: headers that travel (RFC 2047, no injected lines), the
/// Message-ID from the delivery's id, both renderings as base64 parts.
struct EmailMessageTests {
    private let id = DeliveryID(
        slot: "shop",
        windowStart: Timestamp(microsecondsSinceEpoch: 1_796_169_600_000_000),
        destination: "team"
    )

    @Test func theIDsNameTheSlotTheWindowInUTCAndTheDestination() {
        #expect(id.description == "shop/2026-12-02T00:00:00+00:00/team")
        #expect(id.messageID == "<shop.20261202T000000Z.team@daybook>")
    }

    @Test func shortASCIISubjectsStayAsTheyAreAndTheRestAreEncodedWords() {
        #expect(
            EmailMessage.encodedHeader("Daybook 2026-12-02, shop: nothing unusual")
                == "Daybook 2026-12-02, shop: nothing unusual"
        )
        let encoded = EmailMessage.encodedHeader("Daybook ✓ " + String(repeating: "é", count: 40))
        let words = encoded.components(separatedBy: "\n ")
        #expect(words.count > 1)
        var decoded = Data()
        for word in words {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?=") && word.count <= 67, "\(word)")
            decoded += Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data()
        }
        // No character is split between words: each word's bytes are whole UTF-8.
        for word in words {
            let bytes = Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data()
            #expect(String(data: bytes, encoding: .utf8) != nil)
        }
        #expect(String(decoding: decoded, as: UTF8.self) == "Daybook ✓ " + String(repeating: "é", count: 40))
        // A line break in a header's value could start another header: never as it is.
        #expect(!EmailMessage.encodedHeader("a\nBcc: x@example.com").contains("\n"))
    }

    @Test func onlyPlainAddressesAreAccepted() {
        #expect(EmailMessage.isPlainAddress("ops@example.com"))
        #expect(EmailMessage.isPlainAddress("first.last+daybook@mail.example.co.uk"))
        #expect(!EmailMessage.isPlainAddress("Ops <ops@example.com>"))
        #expect(!EmailMessage.isPlainAddress("ops@example.com\nBcc: x@example.com"))
        #expect(!EmailMessage.isPlainAddress("ops"))
        #expect(!EmailMessage.isPlainAddress("ops@example.com\n"), "a trailing newline would end the headers")
        #expect(!EmailMessage.isPlainAddress("ops@example.com\r\n"))
    }

    @Test func theMessageIsMultipartAlternativeWithBase64Parts() {
        var message = EmailMessage(
            digest: Digest(date: "2026-12-02", slots: []),
            deliveryID: id,
            from: "daybook@example.com",
            to: ["ops@example.com", "dba@example.com"],
            subjectTemplate: EmailMessage.defaultSubject
        )
        message.text = "text ✓\n"
        message.html = "<p>html</p>\n"
        let rendered = message.rendered(date: Date(timeIntervalSince1970: 1_796_256_000), boundary: "b-1")
        let lines = rendered.components(separatedBy: "\n")
        #expect(
            lines.prefix(9) == [
                "From: daybook@example.com",
                "To: ops@example.com,",
                " dba@example.com",
                "Subject: Daybook 2026-12-02, : nothing unusual",
                "Date: Thu, 03 Dec 2026 00:00:00 +0000",
                "Message-ID: <shop.20261202T000000Z.team@daybook>",
                "Auto-Submitted: auto-generated",
                "MIME-Version: 1.0",
                "Content-Type: multipart/alternative; boundary=\"b-1\"",
            ]
        )
        #expect(
            rendered.contains(
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                    + Data("text ✓\n".utf8).base64EncodedString() + "\n"
            )
        )
        #expect(rendered.contains(Data("<p>html</p>\n".utf8).base64EncodedString()))
        #expect(rendered.hasSuffix("--b-1--\n"))
        #expect(lines.allSatisfy { $0.utf8.count <= 998 })
    }
}
