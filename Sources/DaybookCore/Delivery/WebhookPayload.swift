/// What a webhook destination receives, and how it is signed: the digest's JSON object with a
/// plain `text` summary added (chat tools such as Slack and Mattermost show `text` as it is),
/// signed as payment and code-hosting services sign theirs.
///
/// The signature is `X-Daybook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over the
/// bytes `"<t>.<body>"` with the destination's secret: the timestamp is signed too, so a
/// receiver can refuse replays older than a few minutes. The HMAC itself is computed by
/// swift-crypto in the sender; this only says what is signed and how it is written.
public enum WebhookPayload {
    /// The request body: the digest's JSON with `text` added.
    public static func body(_ digest: Digest) -> String {
        var object: [String: JSONValue] =
            DaybookJSON.decode(JSONValue.self, from: DaybookJSON.text(digest))?.object ?? [:]
        object["text"] = .string(summary(digest))
        return DaybookJSON.text(JSONValue.object(object))
    }

    /// The plain summary: per slot the title, whether the figures are final, the day's changes
    /// and the headline.
    public static func summary(_ digest: Digest) -> String {
        digest.slots.map { slot in
            ([DigestWords.title(digest, slot), DigestWords.state(slot), DigestWords.summary(slot)]
                + DigestWords.headline(slot).map { "• " + $0 }).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// The bytes the HMAC covers.
    public static func signedContent(timestamp: Int64, body: String) -> [UInt8] {
        Array("\(timestamp).".utf8) + Array(body.utf8)
    }

    /// The header's value for a MAC over ``signedContent(timestamp:body:)``.
    public static func signature(timestamp: Int64, mac: some Sequence<UInt8>) -> String {
        "t=\(timestamp),v1=" + Hex.lowercase(mac)
    }
}
