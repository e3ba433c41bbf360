import Foundation

/// Runs many blocking jobs (HTTP requests of a demo or a test) on a few threads at once.
package enum Concurrently {
    /// Runs jobs `0..<count` on `width` threads, each thread taking every `width`-th job;
    /// returns their results in job order once all are done.
    package static func run<T: Sendable>(_ count: Int, width: Int, _ job: @escaping @Sendable (Int) -> T) -> [T] {
        start(count, width: width, job).wait()
    }

    /// `run` for jobs that throw: each job's value or error, in job order.
    package static func results<T: Sendable>(
        _ count: Int, width: Int, _ job: @escaping @Sendable (Int) throws -> T
    ) -> [Result<T, any Error>] {
        run(count, width: width) { index in Result { try job(index) } }
    }

    /// `run` for async code: the jobs run on their own threads while the caller is suspended.
    package static func run<T: Sendable>(_ count: Int, width: Int, _ job: @escaping @Sendable (Int) -> T) async
        -> [T]
    {
        await start(count, width: width, job).wait()
    }

    /// `results` for async code.
    package static func results<T: Sendable>(
        _ count: Int, width: Int, _ job: @escaping @Sendable (Int) throws -> T
    ) async -> [Result<T, any Error>] {
        await run(count, width: width) { index in Result { try job(index) } }
    }

    /// `run` without waiting: the jobs go on while the caller does something else (stops a
    /// server under them), then `wait()` collects them.
    package static func start<T: Sendable>(_ count: Int, width: Int, _ job: @escaping @Sendable (Int) -> T) -> Batch<T>
    {
        let width = max(1, width)
        let batch = Batch<T>(count: count)
        for worker in 0..<min(width, count) {
            batch.group.enter()
            Thread.detachNewThread {
                var index = worker
                while index < count {
                    batch.set(index, job(index))
                    index += width
                }
                batch.group.leave()
            }
        }
        return batch
    }

    /// Jobs started by `start`; one slot per job, filled by whichever thread ran it.
    package final class Batch<T: Sendable>: @unchecked Sendable {
        // @unchecked Sendable: `storage` is accessed only while holding `lock`.
        private let lock = NSLock()
        private var storage: [T?]
        fileprivate let group = DispatchGroup()

        fileprivate init(count: Int) {
            storage = Array(repeating: nil, count: count)
        }

        fileprivate func set(_ index: Int, _ value: T) {
            lock.withLock { storage[index] = value }
        }

        /// Blocks until every job has finished; their results in job order.
        package func wait() -> [T] {
            group.wait()
            return lock.withLock { storage.map { $0! } }
        }

        /// `wait()` for async code: suspends, holding no thread, until every job has finished.
        package func wait() async -> [T] {
            await withCheckedContinuation { continuation in
                group.notify(queue: .global()) { continuation.resume() }
            }
            return lock.withLock { storage.map { $0! } }
        }
    }
}
