"""What an event says about villages, evidence, rules and attachments: read generically.

The audit service knows no service's event types. It reads what every event shares:
- the villages it is about: payload "code" when it is a village code, and every village
  code inside the stream id (village-<code>, cycle-<code>, document-<code>-rplp, ...);
- references to other events: every UUID in the payload (criteria[].evidence,
  overrides, supersedes, ...); those that are the id of a recorded event are evidence;
- rule versions: top-level payload fields of the form {"id": ..., "version": ...}
  (rule_set, template);
- rule results: top-level lists of objects that carry a "result";
- attachments: fields named sha256 (or ending in _sha256) holding a SHA-256 in hex.
Pure: no I/O, so the offline bundle verifier uses it too.
"""
import re

from shared.ledger.envelope import EVENT_ID_PATTERN

VILLAGE_CODE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
UUID = re.compile(EVENT_ID_PATTERN)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def village_codes(stream_id: str, payload: dict) -> list:
    """The village codes an event is about, in order of appearance, without repeats."""
    found = VILLAGE_CODE.findall(stream_id)
    code = payload.get("code") if isinstance(payload, dict) else None
    if isinstance(code, str) and VILLAGE_CODE.fullmatch(code):
        found.insert(0, code)
    return list(dict.fromkeys(found))


def in_scope(codes, scope_prefix: str) -> bool:
    return any(code.startswith(scope_prefix) for code in codes)


def walk(value, path=""):
    """(path, leaf value) for every scalar in a JSON value; paths like criteria[2].evidence."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")
    else:
        yield path, value


def uuid_references(payload) -> list:
    """(path, uuid) of every UUID in the payload: candidate references to other events."""
    return [(path, value) for path, value in walk(payload)
            if isinstance(value, str) and UUID.fullmatch(value)]


def rule_versions(payload) -> list:
    return [{"field": key, "id": value["id"], "version": value["version"]}
            for key, value in (payload or {}).items()
            if isinstance(value, dict) and set(value) == {"id", "version"}]


def rule_results(payload) -> list:
    return [item for value in (payload or {}).values() if isinstance(value, list)
            for item in value if isinstance(item, dict) and "result" in item]


def attachments(payload) -> list:
    """{path, sha256, name} of every attachment hash in the payload, in payload order.

    A field is judged by its own key and its name read from its own object, never by
    reading the path back: a key may hold a dot or brackets (`scan.sha256` is not a field
    named sha256), and docs/audit-bundle-format.md section 4 words it so."""
    found = []

    def visit(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                at = f"{path}.{key}" if path else key
                if (key == "sha256" or key.endswith("_sha256")) and isinstance(item, str) \
                        and SHA256.fullmatch(item):
                    found.append({"path": at, "sha256": item, "name": _file_name(value)})
                else:
                    visit(item, at)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]")

    visit(payload, "")
    return found


def _file_name(beside: dict):
    """The file name recorded beside a hash: the first of name, filename, file_name and
    title that is a string."""
    return next((beside[key] for key in ("name", "filename", "file_name", "title")
                 if isinstance(beside.get(key), str)), None)
