#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Runtime

/// Reads a file (or standard input for `-`) line by line with getline, so a large file is never held in memory.
final class LineReader {
    /// How the source is named in errors: the path, or "standard input".
    let name: String
    /// Why reading stopped early, if it did.
    private(set) var failure: String?
    private let stream: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    private var number = 0

    init(path: String) throws {
        if path == "-" {
            // fdopen rather than the `stdin` global, which Swift 6 treats as unsafe shared state.
            guard let opened = fdopen(0, "r") else {
                throw ConfigurationError("cannot read standard input: \(String(cString: strerror(errno)))")
            }
            stream = opened
            name = "standard input"
        } else {
            guard let opened = fopen(path, "r") else {
                throw ConfigurationError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            stream = opened
            name = path
        }
    }

    deinit {
        free(buffer)
        fclose(stream)
    }

    /// The next line (1-based number, text as read, line ending included), or nil at the end.
    func next() -> (Int, String)? {
        let length = getline(&buffer, &capacity, stream)
        guard length >= 0, let buffer else {
            if ferror(stream) != 0 { failure = String(cString: strerror(errno)) }
            return nil
        }
        number += 1
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: length)
        return (number, String(decoding: bytes, as: UTF8.self))
    }
}
