import Testing
import Windowing

@Test func windowLengthFromSeconds() throws {
    #expect(try WindowLength(seconds: 86_400) == .days(1))
    #expect(try WindowLength(seconds: 172_800) == .days(2))
    #expect(try WindowLength(seconds: 1).kind == .seconds(1))
    #expect(try WindowLength(seconds: 2).kind == .seconds(2))
    #expect(try WindowLength(seconds: 3_600).kind == .seconds(3_600))
    #expect(try WindowLength(seconds: 43_200).kind == .seconds(43_200))
    #expect(try WindowLength(seconds: 3_600).nominalSeconds == 3_600)
    #expect(WindowLength.days(2).nominalSeconds == 172_800)
    #expect(WindowLength.days(0) == .days(1))
    #expect(try WindowLength(seconds: 900).description == "900s")
    #expect(WindowLength.days(1).description == "1d")
}

@Test(arguments: [7, 0, -1, -86_400, 90_000, 86_401] as [Int64])
func windowLengthRejects(seconds: Int64) {
    let error = #expect(throws: WindowLength.InvalidLength.self) { try WindowLength(seconds: seconds) }
    #expect(error?.seconds == seconds)
}
