import BusLoop

/// Runs `body` with a loop running on its own thread, stopped and joined afterwards.
func withRunningLoop<T>(name: String = "loop-test", _ body: (EventLoop) throws -> T) rethrows -> T {
    let loop = EventLoop(name: name)
    let thread = LoopThread(loop: loop)
    thread.start()
    defer {
        loop.stop()
        thread.join()
    }
    return try body(loop)
}
