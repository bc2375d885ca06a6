import Foundation
import PgOutput

/// Who made a change: the actor and application an application declared (`daybook.act_as`)
/// or a statement trigger reported, and the replication origin of a change another node
/// applied. A change with none of them is unattributed.
public struct Attribution: Hashable, Sendable, Codable {
    /// The actor: a user of the application, or the database role (`current_user`).
    public var actor: String
    /// The application (`application_name`, or what the application said).
    public var application: String
    /// The replication origin of a change another node applied (pgoutput's Origin message).
    public var origin: String

    public init(actor: String = "", application: String = "", origin: String = "") {
        self.actor = actor
        self.application = application
        self.origin = origin
    }

    public var isEmpty: Bool { actor.isEmpty && application.isEmpty && origin.isEmpty }

    /// As a `values` event's `actor` in the sink: a JSON object of the parts that are known.
    public var eventJSON: String {
        var json = "{"
        for (name, value) in [("actor", actor), ("application", application), ("origin", origin)] where !value.isEmpty {
            if json.count > 1 { json += "," }
            JSONText.appendString(name, to: &json)
            json += ":"
            JSONText.appendString(value, to: &json)
        }
        return json + "}"
    }
}

/// One `daybook.actor` message: who acts in its transaction from here on.
///
/// `daybook.act_as(actor, application, request)` and the statement trigger that `daybook
/// setup --attribute` installs emit it with `pg_logical_emit_message(true, 'daybook.actor',
/// json)`. Any role may emit a logical message, so a claim is as trustworthy as the roles that
/// may write to the source; one that is not transactional, not JSON, has no actor, a value
/// over ``maximumLength`` bytes, or an unknown `via` is refused (``AttributionProblem``) and
/// the changes it would cover count as unattributed.
public struct ActorClaim: Hashable, Sendable {
    public static let messagePrefix = "daybook.actor"
    /// The longest actor, application or request kept, in bytes (`act_as` cuts longer values
    /// to one byte more, so that they are refused here without filling the WAL).
    public static let maximumLength = 256

    /// Who said it: the application (`act_as`) or a statement trigger.
    public enum Via: String, Sendable, Codable {
        case actAs = "act_as"
        case trigger
    }

    public var via: Via
    public var actor: String
    public var application: String
    public var request: String?
    /// The table whose statement the trigger reported (`schema.table`): its claim covers that
    /// table's changes only, until the next statement's message.
    public var table: String?

    private struct Payload: Decodable {
        var via: String?
        var user: String?
        var app: String?
        var request: String?
        var table: String?
    }

    /// The claim a message makes, or what is wrong with it.
    public static func parse(_ message: LogicalMessage) -> Result<ActorClaim, AttributionProblem> {
        guard message.transactional else { return .failure(.notTransactional) }
        // The flat objects act_as and the trigger write are read in place; anything else
        // through the full decoder.
        let payload: Payload
        if let members = FlatJSONObject.parse(message.content) {
            func member(_ name: String) -> String? { members[name] ?? nil }
            payload = Payload(
                via: member("via"),
                user: member("user"),
                app: member("app"),
                request: member("request"),
                table: member("table")
            )
        } else if let decoded = DaybookJSON.decode(Payload.self, from: Data(message.content)) {
            payload = decoded
        } else {
            return .failure(.notJSON)
        }
        guard let via = payload.via.flatMap(Via.init(rawValue:)) else { return .failure(.unknownSource) }
        guard let actor = payload.user, !actor.isEmpty else { return .failure(.noActor) }
        let values = [actor, payload.app ?? "", payload.request ?? ""]
        if values.contains(where: { $0.utf8.count > maximumLength }) { return .failure(.oversized) }
        // A NUL cannot be stored (jsonb refuses it) and a line break would forge lines of the
        // digest: control characters are refused.
        if values.contains(where: { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) {
            return .failure(.controlCharacter)
        }
        return .success(
            ActorClaim(
                via: via,
                actor: actor,
                application: payload.app ?? "",
                request: payload.request,
                table: via == .trigger ? payload.table : nil
            )
        )
    }
}

/// Why an actor message was refused; its changes count as unattributed. Daybook warns once
/// per kind and counts each in `daybook_attribution_problems_total{kind}`.
public enum AttributionProblem: String, Error, Sendable, CaseIterable, Hashable {
    /// Emitted outside a transaction (`act_as` never does that).
    case notTransactional = "not_transactional"
    case notJSON = "not_json"
    /// No `via`, or one Daybook does not know.
    case unknownSource = "unknown_source"
    /// A NULL or empty actor.
    case noActor = "no_actor"
    /// A value longer than ``ActorClaim/maximumLength`` bytes.
    case oversized
    /// A value with a NUL, a line break or another control character.
    case controlCharacter = "control_character"

    /// What the warning says.
    public var explanation: String {
        switch self {
        case .notTransactional:
            "a daybook.actor message outside a transaction (daybook.act_as emits transactional ones)"
        case .notJSON: "a daybook.actor message that is not a JSON object"
        case .unknownSource: "a daybook.actor message that neither daybook.act_as nor the statement trigger wrote"
        case .noActor: "a daybook.act_as call with a NULL or empty actor"
        case .oversized: "a daybook.act_as value over \(ActorClaim.maximumLength) bytes"
        case .controlCharacter: "a daybook.actor value with a NUL, a line break or another control character"
        }
    }
}
