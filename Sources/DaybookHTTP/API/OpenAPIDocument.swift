/// The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.
///
/// Kept in the binary (no file to lose beside it) and checked by the tests: schemathesis
/// fuzzes a running `daybook serve` against it, and every answer must fit it.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Daybook",
            "version": "1",
            "description": "Read-only access to Daybook's daily change summaries: the objects are those `daybook status --format json` and `daybook report --format json` print. Times are ISO 8601 in the slot's time zone. A non-loopback server needs a bearer token."
          },
          "servers": [{"url": "/"}],
          "security": [{}, {"bearer": []}],
          "paths": {
            "/api/v1/status": {
              "get": {
                "operationId": "status",
                "summary": "What `daybook status` shows: slot, checkpoint, stream time, windows, heartbeats, deliveries, warnings.",
                "responses": {
                  "200": {"description": "The status.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/api/v1/windows": {
              "get": {
                "operationId": "windows",
                "summary": "Windows whose start lies in [from, to), open ones included (`daybook report --windows`). Without from and to: the last 30 days.",
                "parameters": [
                  {"$ref": "#/components/parameters/From"},
                  {"$ref": "#/components/parameters/To"}
                ],
                "responses": {
                  "200": {"description": "One object per window.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WindowPage"}}}},
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/api/v1/digest": {
              "get": {
                "operationId": "digest",
                "summary": "The morning digest of a day (`daybook digest --format json`): TRUNCATEs and mass deletes, unusual, silent and new tables against their history, schema changes, late changes, windows still open.",
                "parameters": [
                  {"name": "date", "in": "query", "description": "The day (YYYY-MM-DD, today or yesterday) in the slot's time zone, default yesterday; or a moment (an RFC 3339 timestamp): the window that holds it, for windows shorter than a day. A day that has not begun, or a day when windows are shorter than a day: 404.", "schema": {"anyOf": [{"type": "string", "format": "date-time", "pattern": "^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$"}, {"type": "string", "format": "date", "pattern": "^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-"}, {"enum": ["today", "yesterday"]}]}},
                  {"$ref": "#/components/parameters/Table"}
                ],
                "responses": {
                  "200": {"description": "The digest, one section for the slot.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Digest"}}}},
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"description": "No such day yet, or no such table.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/api/v1/windows/{start}/tables": {
              "get": {
                "operationId": "windowTables",
                "summary": "A window's per-table results (`daybook report --include-open`); live figures while it is open.",
                "parameters": [
                  {"$ref": "#/components/parameters/Start"},
                  {"$ref": "#/components/parameters/Table"}
                ],
                "responses": {
                  "200": {"description": "One object per table.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TablePage"}}}},
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/api/v1/windows/{start}/keys": {
              "get": {
                "operationId": "windowKeys",
                "summary": "A window's keys (`daybook report --keys`, or `--top N`): paged by first change, with a cursor.",
                "parameters": [
                  {"$ref": "#/components/parameters/Start"},
                  {"$ref": "#/components/parameters/Table"},
                  {"name": "top", "in": "query", "description": "Only the N most-changed keys of each table, in one page (cursor and limit are then ignored).", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                  {"name": "limit", "in": "query", "description": "Keys per page (default 100).", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                  {"name": "cursor", "in": "query", "description": "next_cursor of the previous page, as given (another names no page: 404; one whose fields were changed is refused: 400).", "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}}
                ],
                "responses": {
                  "200": {"description": "One object per key.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyPage"}}}},
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            },
            "/api/v1/windows/{start}/events": {
              "get": {
                "operationId": "keyEvents",
                "summary": "One key's events with their values in a closed window (`daybook report --events`), for tables captured at values.",
                "parameters": [
                  {"$ref": "#/components/parameters/Start"},
                  {"name": "table", "in": "query", "required": true, "description": "schema.table", "schema": {"type": "string", "minLength": 1}},
                  {"name": "key", "in": "query", "required": true, "description": "The key as a JSON object, column to text value, e.g. {\"id\":\"42\"}. Text that is no JSON object names no key (404); an object PostgreSQL cannot read (\\u0000, a lone surrogate escape) is refused (400).", "schema": {"type": "string", "pattern": "^\\{[^\\u0000]*\\}$"}}
                ],
                "responses": {
                  "200": {"description": "The key's object, with its events.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventPage"}}}},
                  "400": {"$ref": "#/components/responses/BadRequest"},
                  "401": {"$ref": "#/components/responses/Unauthorized"},
                  "404": {"$ref": "#/components/responses/NotFound"},
                  "503": {"$ref": "#/components/responses/Unavailable"}
                }
              }
            }
          },
          "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
              "Start": {"name": "start", "in": "path", "required": true, "description": "The window's start as listed by /api/v1/windows, e.g. 2026-12-01T00:00:00+00:00 (or a date: its midnight in the slot's time zone).", "schema": {"$ref": "#/components/schemas/Moment"}},
              "Table": {"name": "table", "in": "query", "description": "Only this table (schema.table); a NUL character is refused (400).", "schema": {"type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$"}},
              "From": {"name": "from", "in": "query", "description": "A date (2026-12-01, yesterday) or timestamp, in the slot's time zone unless it has an offset; inclusive.", "schema": {"$ref": "#/components/schemas/Moment"}},
              "To": {"name": "to", "in": "query", "description": "A date or timestamp; exclusive.", "schema": {"$ref": "#/components/schemas/Moment"}}
            },
            "responses": {
              "BadRequest": {"description": "A parameter is wrong; the message says which and how.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
              "NotFound": {"description": "No such window (or path).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
              "Unauthorized": {"description": "A bearer token is needed.", "content": {"text/plain": {"schema": {"type": "string"}}}},
              "Unavailable": {"description": "The sink did not answer; the message says why.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            },
            "schemas": {
              "Moment": {"description": "A date (years 0001 to 9999), today, yesterday or tomorrow, or an RFC 3339 timestamp with at most six fractional digits and an offset within ±15:59 (as PostgreSQL takes them); anything else is refused (400).", "anyOf": [{"type": "string", "format": "date-time", "pattern": "^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$"}, {"type": "string", "format": "date", "pattern": "^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-"}, {"enum": ["today", "yesterday", "tomorrow"]}]},
              "Problem": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
              "Time": {"type": ["string", "null"]},
              "Notice": {"type": ["string", "null"], "description": "What a reader should know: windows not final yet, pruned days, windows a gap may touch."},
              "Gap": {"type": "object", "description": "Commits the sink lost after the slot had confirmed them (accepted with daybook run --accept-gap): windows from from_time to until_time may miss changes.", "required": ["slot", "from_lsn", "to_lsn", "until_time", "until_first_commit", "recorded_at"], "properties": {
                "slot": {"type": "string"}, "from_lsn": {"type": "string"}, "to_lsn": {"type": "string"},
                "from_time": {"type": "string", "description": "The sink's stream time then; absent when it had none."},
                "until_time": {"type": "string", "description": "The first commit read after the gap, or until it is read, the source's clock when the gap was accepted."},
                "until_first_commit": {"type": "boolean"}, "recorded_at": {"type": "string"}}},
              "WindowPage": {"type": "object", "required": ["items", "next_cursor", "notice", "gaps"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/WindowRow"}},
                "next_cursor": {"type": "null"}, "notice": {"$ref": "#/components/schemas/Notice"},
                "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Gap"}}}},
              "WindowRow": {"type": "object", "required": ["window_start", "window_end", "status", "closed_by", "closes_at", "closed_at", "changes", "transactions", "tables", "pruned", "incomplete"], "properties": {
                "window_start": {"type": "string"}, "window_end": {"type": "string"},
                "status": {"enum": ["open", "closing", "closed"]},
                "closed_by": {"enum": ["data", "heartbeat", "startup", "idle", null]},
                "closes_at": {"type": "string", "description": "The stream time that closes it: its end plus grace."},
                "closed_at": {"$ref": "#/components/schemas/Time"},
                "changes": {"type": "integer"}, "transactions": {"type": "integer"}, "tables": {"type": "integer"},
                "pruned": {"enum": ["keys", "all", null]},
                "incomplete": {"type": "boolean", "description": "Whether a recorded gap (see Gap) may touch the window: it may miss changes."}}},
              "TablePage": {"type": "object", "required": ["items", "next_cursor", "notice", "gaps"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/TableRow"}},
                "next_cursor": {"type": "null"}, "notice": {"$ref": "#/components/schemas/Notice"},
                "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Gap"}}}},
              "TableRow": {"type": "object", "required": ["window_start", "window_end", "table", "inserts", "updates", "deletes", "truncates", "transactions", "keys", "first_change_at", "last_change_at", "late", "levels", "status"], "properties": {
                "window_start": {"type": "string"}, "window_end": {"type": "string"}, "table": {"type": "string"},
                "inserts": {"type": "integer"}, "updates": {"type": "integer"}, "deletes": {"type": "integer"},
                "truncates": {"type": "integer"}, "transactions": {"type": "integer"}, "keys": {"type": ["integer", "null"]},
                "first_change_at": {"$ref": "#/components/schemas/Time"}, "last_change_at": {"$ref": "#/components/schemas/Time"},
                "late": {"type": ["integer", "null"]}, "levels": {"type": ["string", "null"]},
                "status": {"enum": ["open", "closing", "closed"]}}},
              "KeyPage": {"type": "object", "required": ["items", "next_cursor", "notice", "gaps"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/KeyRow"}},
                "next_cursor": {"type": ["string", "null"], "description": "Pass as cursor for the next page; null on the last."},
                "notice": {"$ref": "#/components/schemas/Notice"},
                "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Gap"}}}},
              "KeyRow": {"type": "object", "required": ["window_start", "window_end", "table", "key", "ops", "first_change_at", "last_change_at", "net", "status"], "properties": {
                "window_start": {"type": "string"}, "window_end": {"type": "string"}, "table": {"type": "string"},
                "key": {"type": "object"}, "ops": {"type": "string", "description": "I, U, D in commit order; run-length past 64 (I U×999998 D)."},
                "first_change_at": {"type": "string"}, "last_change_at": {"type": "string"},
                "net": {"type": "string"}, "status": {"enum": ["open", "closing", "closed"]}}},
              "EventPage": {"type": "object", "required": ["items", "next_cursor", "notice", "gaps"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/KeyEvents"}},
                "next_cursor": {"type": "null"}, "notice": {"$ref": "#/components/schemas/Notice"},
                "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Gap"}}}},
              "KeyEvents": {"type": "object", "required": ["window_start", "window_end", "table", "key", "ops", "net", "first_change_at", "last_change_at", "before", "changed", "truncated", "events_left_out", "events"], "properties": {
                "window_start": {"type": "string"}, "window_end": {"type": "string"}, "table": {"type": "string"},
                "key": {"type": "object"}, "ops": {"type": "string"}, "net": {"type": "string"},
                "first_change_at": {"type": "string"}, "last_change_at": {"type": "string"},
                "before": {"enum": ["known", "none", "unknown"]},
                "changed": {"type": "object", "additionalProperties": {"type": "object", "properties": {"before": {"type": ["string", "null"]}, "after": {"type": ["string", "null"]}}}},
                "truncated": {"type": "boolean"}, "events_left_out": {"type": "integer"},
                "events": {"type": "array", "items": {"type": "object", "required": ["op", "at", "lsn", "row"], "properties": {
                  "op": {"enum": ["I", "U", "D"]}, "at": {"type": "string"}, "lsn": {"type": "string"},
                  "row": {"type": ["object", "null"]}, "old_key": {"type": "object"}, "new_key": {"type": "object"},
                  "old_row": {"type": "object"}, "unchanged": {"type": "array", "items": {"type": "string"}},
                  "actor": {"type": "object", "description": "Who made the change (absent: unattributed).", "properties": {"actor": {"type": "string"}, "application": {"type": "string"}, "origin": {"type": "string"}}}}}}}},
              "Digest": {"type": "object", "required": ["digest_version", "slots"], "properties": {
                "digest_version": {"const": 1}, "date": {"type": "string"},
                "slots": {"type": "array", "items": {"$ref": "#/components/schemas/DigestSlot"}}}},
              "Shares": {"type": "array", "description": "The largest few, then (others) summing the rest.", "items": {"type": "object", "required": ["name", "changes"], "properties": {"name": {"type": "string"}, "changes": {"type": "integer"}}}},
              "DigestSlot": {"type": "object", "required": ["slot", "time_zone", "window", "headline", "tables", "schema_changes", "incomplete", "rule"], "properties": {
                "slot": {"type": "string"}, "time_zone": {"type": "string"},
                "window": {"type": "object", "required": ["start", "end", "state"], "properties": {
                  "start": {"type": "string"}, "end": {"type": "string"}, "state": {"enum": ["closed", "open", "pruned", "none"]},
                  "closes_at": {"type": "string"}, "closed_at": {"type": "string"}, "closed_by": {"type": "string"},
                  "stream_time": {"type": "string"}, "last_heartbeat_ago": {"type": "string"}}},
                "headline": {"type": "object", "required": ["changes", "tables_changed", "unusual", "silent", "new", "mass_changes", "schema_changed", "late_changes", "open_windows"], "properties": {
                  "changes": {"type": "integer"}, "tables_changed": {"type": "integer"},
                  "unusual": {"type": "array", "items": {"type": "string"}}, "silent": {"type": "array", "items": {"type": "string"}},
                  "new": {"type": "array", "items": {"type": "string"}}, "schema_changed": {"type": "array", "items": {"type": "string"}},
                  "mass_changes": {"type": "array", "items": {"type": "object", "required": ["table", "kind", "count"], "properties": {
                    "table": {"type": "string"}, "kind": {"enum": ["truncate", "mass_delete"]}, "count": {"type": "integer"}, "share": {"type": "number"}}}},
                  "late_changes": {"type": "integer"},
                  "open_windows": {"type": "array", "items": {"type": "object", "required": ["start", "closes_at"], "properties": {"start": {"type": "string"}, "closes_at": {"type": "string"}}}}}},
                "tables": {"type": "array", "items": {"type": "object", "required": ["table", "inserts", "updates", "deletes", "truncates", "verdict", "figures", "history_windows", "history_needed", "late_changes", "top_keys", "actors", "applications", "origins", "unattributed"], "properties": {
                  "table": {"type": "string"}, "inserts": {"type": "integer"}, "updates": {"type": "integer"}, "deletes": {"type": "integer"}, "truncates": {"type": "integer"},
                  "verdict": {"enum": ["unusual", "usual", "silent", "new", "not_enough_history", "pending"]},
                  "figures": {"type": "array", "items": {"type": "object", "required": ["figure", "value", "expected_min", "expected_max", "unusual", "basis", "points"], "properties": {
                    "figure": {"enum": ["inserts", "updates", "deletes", "truncates"]}, "value": {"type": "integer"},
                    "expected_min": {"type": "integer"}, "expected_max": {"type": "integer"}, "unusual": {"type": "boolean"},
                    "basis": {"enum": ["weekday", "trailing"]}, "points": {"type": "integer"}}}},
                  "history_windows": {"type": "integer"}, "history_needed": {"type": "integer"}, "late_changes": {"type": "integer"},
                  "top_keys": {"type": "array", "items": {"type": "object", "required": ["key", "changes"], "properties": {"key": {"type": "object"}, "changes": {"type": "integer"}}}},
                  "actors": {"$ref": "#/components/schemas/Shares"}, "applications": {"$ref": "#/components/schemas/Shares"},
                  "origins": {"$ref": "#/components/schemas/Shares"}, "unattributed": {"type": "integer"}}}},
                "schema_changes": {"type": "array", "items": {"type": "object", "required": ["table", "lsn", "change"], "properties": {
                  "table": {"type": "string"}, "lsn": {"type": "string"}, "commit_time": {"type": "string"},
                  "change": {"enum": ["table_seen", "table_renamed", "column_added", "column_dropped", "column_renamed", "column_retyped", "identity_changed", "key_changed"]},
                  "column": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"}}}},
                "incomplete": {"type": "array", "items": {"type": "string"}},
                "rule": {"type": "object"}}},
              "Destination": {"type": "object", "description": "Where the slot's closed days are delivered (`daybook notify`) and how that stands. No secret, password or webhook path is shown.", "required": ["name", "kind", "target", "only_unusual", "pending", "failed", "delivered", "skipped", "attempts"], "properties": {
                "name": {"type": "string"}, "kind": {"enum": ["webhook", "email"]},
                "target": {"type": "string", "description": "A webhook's scheme, host and port; an email's recipients and server."},
                "slot": {"type": "string", "description": "Absent: every slot's days."},
                "only_unusual": {"type": "boolean"},
                "pending": {"type": "integer"}, "failed": {"type": "integer", "description": "Given up after their attempts; daybook notify retry makes them pending again."},
                "delivered": {"type": "integer"}, "skipped": {"type": "integer"},
                "last_delivered_window": {"type": "string"}, "last_delivered_at": {"type": "string"},
                "last_error": {"type": "string"},
                "oldest_pending_since": {"type": "string"}, "oldest_pending_age_seconds": {"type": "number"},
                "attempts": {"type": "object", "description": "Attempts recorded, by outcome (delivered, retry, failed).", "additionalProperties": {"type": "integer"}}}},
              "Status": {"type": "object", "required": ["slot", "open_windows", "closing_windows", "closed_windows", "capture_levels", "gaps", "destinations", "warnings"], "properties": {
                "slot": {"type": "string"},
                "source_error": {"type": "string"},
                "source_clock": {"type": "string", "description": "The source's clock, UTC."},
                "replication_slot": {"type": "object", "required": ["exists"], "properties": {
                  "exists": {"type": "boolean"}, "active": {"type": "boolean"}, "active_pid": {"type": "integer"},
                  "confirmed_lsn": {"type": "string"}, "wal_status": {"type": "string"},
                  "retained_wal": {"type": "string"}, "retained_wal_bytes": {"type": "integer"},
                  "read_mode": {"enum": ["streaming", "backlog"], "description": "How Daybook reads the slot now: the replication stream, or a backlog read through SQL decoding; absent when nobody reads it."}}},
                "heartbeat_table": {"type": "object", "required": ["beats", "published"], "properties": {
                  "last_written_at": {"type": "string"}, "age": {"type": "string"}, "beats": {"type": "integer"}, "published": {"type": "boolean"}}},
                "checkpoint": {"type": "object", "required": ["lsn", "window_length", "grace", "time_zone"], "properties": {
                  "lsn": {"type": "string"}, "written_at": {"type": "string"}, "stream_time": {"type": "string"},
                  "window_length": {"type": "string"}, "grace": {"type": "string"}, "time_zone": {"type": "string"},
                  "last_heartbeat_at": {"type": "string"}, "last_heartbeat_age": {"type": "string"}}},
                "open_windows": {"type": "array", "items": {"type": "object", "required": ["window_start", "window_end", "closes_at"], "properties": {
                  "window_start": {"type": "string"}, "window_end": {"type": "string"}, "closes_at": {"type": "string"},
                  "stream_time_until_close": {"type": "string"}}}},
                "closing_windows": {"type": "array", "items": {"type": "object", "required": ["window_start", "window_end"], "properties": {
                  "window_start": {"type": "string"}, "window_end": {"type": "string"}, "closed_by": {"type": "string"}}}},
                "closed_windows": {"type": "integer"},
                "last_closed_window_end": {"type": "string"},
                "capture_levels": {"type": "array", "items": {"type": "object", "required": ["table", "level", "since_lsn", "excluded_columns"], "properties": {
                  "table": {"type": "string"}, "level": {"enum": ["counts", "keys", "values"]}, "since_lsn": {"type": "string"},
                  "columns": {"type": "array", "items": {"type": "string"}}, "excluded_columns": {"type": "array", "items": {"type": "string"}},
                  "hashed_columns": {"type": "array", "items": {"type": "string"}, "description": "Kept as keyed hashes (hmac:…), never as values."},
                  "masked_columns": {"type": "array", "items": {"type": "string"}, "description": "Shown as (masked), never kept."},
                  "key_id": {"type": "string", "description": "The id of the hashes' key (not the key)."}}}},
                "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Gap"}},
                "destinations": {"type": "array", "items": {"$ref": "#/components/schemas/Destination"}},
                "warnings": {"type": "array", "items": {"type": "string"}}}}
            }
          }
        }
        """#
}
