import Testing
import Windowing

@Suite struct CompactOperationsTests {
    private func letters(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func upTo64LettersStayAsTheyAre() {
        let ops = letters("I" + String(repeating: "U", count: 62) + "D")
        #expect(CompactOperations.encode(ops) == ops)
    }

    @Test func longRunsAreRunLengthEncodedLikeTheSink() {
        let ops = letters("I" + String(repeating: "U", count: 9_998) + "D")
        #expect(String(decoding: CompactOperations.encode(ops), as: UTF8.self) == "I U×9998 D")
        let mixed = letters(String(repeating: "U", count: 70) + "DIDI")
        #expect(String(decoding: CompactOperations.encode(mixed), as: UTF8.self) == "U×70 D I D I")
    }

    @Test func theRawFormStaysWhenRunsWouldBeLonger() {
        let alternating = letters(String(repeating: "ID", count: 40))
        #expect(CompactOperations.encode(alternating) == alternating)
    }
}
