import BusRedis

/// `XADD stream MAXLEN ~ n * field value …`, answered with the new entry's id.
///
/// Built for the gateway's hot path: the fields are written straight into the RESP bytes by a
/// non-escaping closure, so a command costs one byte buffer and no argument array.
package struct XAdd: StreamCommand {
    package let command: RedisCommand

    /// Writes the fields of one entry; used only inside `XAdd.init`.
    package struct FieldWriter {
        fileprivate var encoder: RedisCommandEncoder

        /// A field whose name was encoded up front (one word).
        package mutating func field(_ name: RedisEncodedWords, _ value: String) {
            encoder.append(name)
            encoder.append(value)
        }

        package mutating func field(_ name: RedisEncodedWords, _ value: Int64) {
            encoder.append(name)
            encoder.append(value)
        }
    }

    private static let name = RedisEncodedWords("XADD")
    private static let approximateTrim = RedisEncodedWords("MAXLEN", "~")
    private static let generatedID = RedisEncodedWords("*")

    /// An entry of `fieldCount` fields (written by `fields`, exactly that many) appended to
    /// `stream`, trimmed to about `approximateMaxLength` entries.
    package init(
        stream: String, approximateMaxLength: Int, fieldCount: Int, fields: (inout FieldWriter) -> Void
    ) {
        var writer = FieldWriter(encoder: RedisCommandEncoder(argumentCount: 6 + 2 * fieldCount))
        writer.encoder.append(Self.name)
        writer.encoder.append(stream)
        writer.encoder.append(Self.approximateTrim)
        writer.encoder.append(approximateMaxLength)
        writer.encoder.append(Self.generatedID)
        fields(&writer)
        command = writer.encoder.command(name: "XADD")
    }

    /// The new entry's id.
    package func decode(_ reply: RedisReply) throws(RedisError) -> String {
        guard let id = reply.string else { throw .unexpectedReply("XADD answered no entry id") }
        return id
    }

    /// The whole outcome, decoded. Its own, not `StreamCommand`'s generic default: the gateway
    /// calls it per spawn from another module, where the default runs unspecialized.
    package func decode(_ result: Result<RedisReply, RedisError>) -> Result<String, RedisError> {
        switch result {
        case .success(let reply):
            guard let id = reply.string else { return .failure(.unexpectedReply("XADD answered no entry id")) }
            return .success(id)
        case .failure(let error):
            return .failure(error)
        }
    }
}
