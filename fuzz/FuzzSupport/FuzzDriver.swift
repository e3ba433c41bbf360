// What every libFuzzer target here shares: starting libFuzzer's driver and copying its input.
#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer's driver (compiler-rt FuzzerDriver.cpp): reads libFuzzer's flags from argv and
/// calls `callback` with every input it generates. No header of it ships with Swift, and it
/// takes only pointers and returns an int, which Swift passes exactly as C does.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer with `fuzzOne` and exits with its status.
///
/// SwiftPM renames an executable's `main` and points the linker at it, so libFuzzer's own
/// `main` is never used: each target's top-level code calls this instead.
public func runFuzzer(_ fuzzOne: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var arguments = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(runFuzzerDriver(&arguments, &argv, fuzzOne))
}

/// A copy of libFuzzer's input, which libFuzzer owns and keeps alive for one call only.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
}
