import Testing

@testable import BusJSON

@Suite("JSONWriter.number(_: JSONNumber)")
struct JSONNumberWriterTests {
    /// What the Double path writes: the reference the literal path must reproduce.
    private func viaDouble(_ literal: String) -> String {
        JSONWriter.compactNumber(Double(literal)!)
    }

    private func viaLiteral(_ literal: String) -> String {
        var writer = JSONWriter()
        writer.number(JSONNumber(literal: literal, isIntegerLiteral: !literal.contains(where: { ".eE".contains($0) })))
        return writer.text
    }

    @Test(
        "writes what the Double path writes, at every edge of the literal path",
        arguments: [
            "0", "-0", "0.0", "-0.0", "5", "-5", "2.0", "2.50", "1.5", "-0.25", "100", "100.25", "10.000",
            "0.1", "0.001", "0.0001", "-0.0001", "0.00001", "0.000012", "123456789012345", "1234567890123456",
            "9007199254740993", "12345678901234.5", "1234567890123.45", "123456789012345.6", "0.123456789012345",
            "0.1234567890123456", "1.000000000000001", "3.14159265358979", "1e2", "1E-7", "2.5e3", "-1.5e-10",
            "1e400", "0.30000000000000004", "99999999999999.9", "999999999999999",
        ])
    func matchesDoublePath(literal: String) {
        #expect(viaLiteral(literal) == viaDouble(literal), "literal \(literal)")
    }

    @Test("matches the Double path on random decimals of every length and scale")
    func randomDecimals() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let integerDigits = Int.random(in: 0...17, using: &generator)
            let fractionDigits = Int.random(in: 0...17, using: &generator)
            var literal = Bool.random(using: &generator) ? "-" : ""
            if integerDigits == 0 {
                literal += "0"
            } else {
                literal += String(Int.random(in: 1...9, using: &generator))
                for _ in 1..<integerDigits { literal += String(Int.random(in: 0...9, using: &generator)) }
            }
            if fractionDigits > 0 {
                literal += "."
                for _ in 0..<fractionDigits {
                    // Zeros are common, so that runs of them (leading and trailing) are covered.
                    literal += Bool.random(using: &generator) ? "0" : String(Int.random(in: 0...9, using: &generator))
                }
            }
            #expect(viaLiteral(literal) == viaDouble(literal), "literal \(literal)")
        }
    }

    @Test("a literal the parser would refuse is never copied as it is")
    func malformedLiterals() {
        for literal in ["01", "-01.5", "1.", ".5", "-", "", "+1", "1.5.2"] {
            var bytes: [UInt8] = []
            #expect(!JSONWriter.appendCompactLiteral(literal, to: &bytes), "literal \(literal)")
            #expect(bytes.isEmpty)
        }
    }

    @Test("finiteness is known without parsing for plain decimals, and by parsing otherwise")
    func finiteness() {
        #expect(JSONNumber(literal: "1.5", isIntegerLiteral: false).isFinite)
        #expect(JSONNumber(literal: "1e308", isIntegerLiteral: false).isFinite)
        #expect(!JSONNumber(literal: "1e309", isIntegerLiteral: false).isFinite)
        #expect(!JSONNumber(literal: "-2E400", isIntegerLiteral: false).isFinite)
        #expect(!JSONNumber(literal: String(repeating: "9", count: 400), isIntegerLiteral: true).isFinite)
    }
}
