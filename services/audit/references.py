"""What an event says about villages, regions, evidence, rules and attachments: read
generically.

The audit service knows no service's event types. It reads what every event shares:
- the villages it is about: payload "code" when it is a village code, and every village
  code inside the stream id (village-<code>, cycle-<code>, document-<code>-rplp, ...);
- the regions it is about (docs/audit-bundle-format.md section 6 rule 7): a stream id
  that is one word, a dash and a region code (quota-<kabupaten>), and payload
  "kabupaten" (a code PP.KK, or an object whose "code" is one);
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
KABUPATEN_CODE = re.compile(r"[0-9]{2}\.[0-9]{2}")
# <kind>-<region code>: exactly one dash, so a name holding dashes (a username or rule-set
# id like a-52, stream user-a-52) never ends in a region code that counts.
REGION_STREAM = re.compile(r"([a-z][a-z0-9_]*)-([0-9]{2}(?:\.[0-9]{2}){0,2})")
# Streams named by a name someone chose: whatever it looks like, it names no region.
NAMED_STREAMS = frozenset({"user", "apikey", "ruleset", "meeting"})
UUID = re.compile(EVENT_ID_PATTERN)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def village_codes(stream_id: str, payload: dict) -> list:
    """The village codes an event is about, in order of appearance, without repeats."""
    found = VILLAGE_CODE.findall(stream_id)
    code = payload.get("code") if isinstance(payload, dict) else None
    if isinstance(code, str) and VILLAGE_CODE.fullmatch(code):
        found.insert(0, code)
    return list(dict.fromkeys(found))


def stream_region(stream_id: str):
    """The region code a stream id names (quota-52.01: 52.01), or None."""
    named = REGION_STREAM.fullmatch(stream_id)
    return named[2] if named and named[1] not in NAMED_STREAMS else None


def stream_codes(stream_id: str) -> list:
    """The village and region codes a stream id names: its stream is about them."""
    region = stream_region(stream_id)
    return VILLAGE_CODE.findall(stream_id) + ([region] if region else [])


def region_codes(stream_id: str, payload: dict) -> list:
    """The region codes (PP, PP.KK, PP.KK.CC) an event is about, without repeats."""
    region = stream_region(stream_id)
    found = [region] if region else []
    kabupaten = payload.get("kabupaten") if isinstance(payload, dict) else None
    if isinstance(kabupaten, dict):
        kabupaten = kabupaten.get("code")
    if isinstance(kabupaten, str) and KABUPATEN_CODE.fullmatch(kabupaten):
        found.append(kabupaten)
    return list(dict.fromkeys(found))


def codes_about(stream_id: str, payload: dict) -> list:
    """Every village and region code an event is about: what decides who may see it."""
    return village_codes(stream_id, payload) + region_codes(stream_id, payload)


def in_scope(codes, scope_prefix: str) -> bool:
    """A code is in the scope of a region prefix when it starts with it (as text): a
    village 52.01.08.2006 and a kabupaten 52.01 are in 52 and 52.01, neither in 52.02."""
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
