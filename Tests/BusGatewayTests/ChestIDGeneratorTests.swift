import BusDomain
import Testing

@testable import BusGateway

@Suite("ChestIDGenerator")
struct ChestIDGeneratorTests {
    @Test("generated chest ids are unique and valid")
    func generatedIDs() {
        var generator = ChestIDGenerator(processTag: ChestIDGenerator.makeProcessTag(), worker: 3)
        let ids = (0..<1000).map { _ in generator.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy(Identifiers.isValidChestID))
        #expect(ChestIDGenerator.makeProcessTag() != ChestIDGenerator.makeProcessTag())
    }
}
