import BusPostgres
import Testing

@Suite("PostgresPool.shares")
struct PostgresPoolSharesTests {
    @Test(
        "splits the process budget over loops, largest first",
        arguments: [
            (8, 2, [4, 4]), (5, 2, [3, 2]), (8, 3, [3, 3, 2]), (1, 1, [1]), (2, 4, [1, 1]),
            (7, 7, [1, 1, 1, 1, 1, 1, 1]),
            (10, 4, [3, 3, 2, 2]),
        ])
    func shares(total: Int, loops: Int, expected: [Int]) {
        let shares = PostgresPool.shares(total: total, loops: loops)
        #expect(shares == expected)
        #expect(shares.reduce(0, +) == total)
        #expect(shares.count == min(total, loops))
    }
}
