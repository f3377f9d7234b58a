"""docs/events.md and the services' event tables cannot drift from the event catalogs.

The catalogs (services.gateway.event_payloads.CATALOGS, ledger -> EventCatalog) are what
the chassis enforces and what is recorded for ever (decision 21); the docs are what
integrators read. So every event type a doc names is in the catalog of the ledger the doc
says, every payload field a table names is in that type's schema (top level, and nested
where the table writes `field` {sub, sub} or `field` [{sub, ...}] or `field.sub`), and
every type of every catalog is named in docs/events.md, under its ledger's heading.

How a payload cell is read: backticked lower-case names outside any (...) are fields; the
first `;` outside brackets ends the fields (what follows is prose); `field` {a, b} or
`field` [{a, b}] names a's and b's inside field (an item with a `:` describes a
mapping's keys, not fields); a parenthesis "(<ledger>: `a`, `b`)" names fields of that
ledger's schema of the type.
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from services.gateway.event_payloads import CATALOGS
from shared.chassis.payloads import nested_schemas

DOCS = Path(__file__).resolve().parents[2] / "docs"
EVENTS_DOC = DOCS / "events.md"
# a service's own page: the ledger its event tables are of
SERVICE_DOCS = {"cycle": DOCS / "cycle.md", "planning": DOCS / "planning.md",
                "registration": DOCS / "registration.md"}

EVENT_TYPE = re.compile(r"`([A-Z][a-z][A-Za-z0-9]*)`")   # `VillageSelected`, not `EVENTS`
FIELD = re.compile(r"`([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)`")
CLOSING = {"(": ")", "{": "}", "[": "]"}


@dataclass
class Section:
    """A `## ` part of a page: the ledger it is about (None: any service's)."""
    heading: str
    ledger: str | None
    future: bool
    text: str = ""
    rows: list = field(default_factory=list)   # (type, payload cell, other cells)


def sections(path):
    found = []
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            ledger = re.search(r"ledger `([a-z][a-z0-9_]*)`", line)
            found.append(Section(line, ledger and ledger.group(1), "future" in line))
            continue
        if not found:
            continue
        section = found[-1]
        section.text += line + "\n"
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and re.fullmatch(r"`[A-Z]\w+`", cells[0]):
            section.rows.append((cells[0].strip("`"), cells[1], cells[2:]))
    return found


def closing(text, start):
    """The index just past the bracket that closes text[start]."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] in CLOSING:
            depth += 1
        elif text[index] in CLOSING.values():
            depth -= 1
            if depth == 0:
                return index + 1
    raise AssertionError(f"unclosed {text[start]} in {text!r}")


def split_items(text):
    """text's comma-separated items, commas inside brackets not splitting."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += (char in CLOSING) - (char in CLOSING.values())
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    return items + [current.strip()]


def nested_names(inner, prefix):
    """The dotted field names of a {a, b {c}} or [{a, b}] listing inside field prefix."""
    inner = inner.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1].strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        return set()   # `evidence` [refs]: a list of values, no fields
    names = set()
    for item in split_items(inner[1:-1]):
        head = re.match(r"`?([a-z_][a-z0-9_]*)`?\s*(.*)", item)
        if not head or ":" in item:
            continue   # {output: how it was done}: a mapping's keys, not fields
        name, rest = f"{prefix}.{head.group(1)}", head.group(2).strip()
        names.add(name)
        if rest[:1] in "{[" and rest:
            names |= nested_names(rest[:closing(rest, 0)], name)
    return names


def payload_fields(cell):
    """(fields of the type, {ledger: fields of that ledger's schema only}) a payload
    cell names, as dotted paths."""
    common, by_ledger, index = set(), {}, 0
    while index < len(cell):
        char = cell[index]
        if char == ";":
            break   # prose after the fields
        if char == "(":
            end = closing(cell, index)
            qualified = re.fullmatch(r"\(([a-z]+): (.*)\)", cell[index:end], re.S)
            if qualified and qualified.group(1) in CATALOGS:
                by_ledger.setdefault(qualified.group(1), set()).update(
                    FIELD.findall(qualified.group(2)))
            index = end
        elif char in "{[":
            index = closing(cell, index)   # a listing not after a field: prose
        elif char == "`":
            end = cell.index("`", index + 1) + 1
            name = FIELD.fullmatch(cell[index:end])
            index = end
            if name:
                common.add(name.group(1))
                rest = cell[index:].lstrip()
                if rest[:1] in ("{", "["):
                    start = len(cell) - len(rest)
                    index = closing(cell, start)
                    common |= nested_names(cell[start:index], name.group(1))
        else:
            index += 1
    return common, by_ledger


def schema_has(schema, path):
    """Whether the payload schema has the dotted field path (through nested schemas,
    lists of them and any of a choice of shapes)."""
    name, _, rest = path.partition(".")
    cls = schema if isinstance(schema, type) else type(schema)
    for key, declared in cls._declared_fields.items():
        if (declared.data_key or key) == name:
            return not rest or any(schema_has(inner, rest)
                                   for inner in nested_schemas(declared))
    return False


def missing_fields(ledgers, type_, names):
    return sorted(f"{type_}.{name} ({ledger})" for ledger in ledgers for name in names
                  if not schema_has(CATALOGS[ledger].schemas[type_], name))


def recorded_by(type_):
    return [ledger for ledger, catalog in CATALOGS.items() if type_ in catalog.schemas]


def events_doc_sections():
    return [s for s in sections(EVENTS_DOC) if s.ledger or "any service" in s.heading]


def test_events_md_tables_name_only_recorded_types_and_their_fields():
    wrong = []
    for section in events_doc_sections():
        if section.future:
            # a service to come: no catalog yet; once it records, its table is checked
            assert section.ledger not in CATALOGS, f"{section.heading}: no longer future"
            continue
        for type_, cell, _ in section.rows:
            ledgers = [section.ledger] if section.ledger else recorded_by(type_)
            if not ledgers or type_ not in CATALOGS[ledgers[0]].schemas:
                wrong.append(f"{type_}: not in the {section.ledger or 'any'} catalog")
                continue
            common, own = payload_fields(cell)
            wrong += missing_fields(ledgers, type_, common)
            for ledger, names in own.items():
                wrong += missing_fields([ledger], type_, names) if ledger in ledgers \
                    else [f"{type_}: {ledger} does not record it"]
    assert not wrong, "docs/events.md names what no catalog has: " + "; ".join(wrong)


def test_events_md_names_every_recorded_type_under_its_ledger():
    named = {}   # ledger (None: any) -> types its section names, in tables or prose
    for section in events_doc_sections():
        named.setdefault(section.ledger, set()).update(EVENT_TYPE.findall(section.text))
        named[section.ledger] |= {type_ for type_, _, _ in section.rows}
    unnamed = [f"{type_} ({ledger})" for ledger, catalog in CATALOGS.items()
               for type_ in catalog.schemas
               if type_ not in named.get(ledger, set()) | named.get(None, set())]
    assert not unnamed, "docs/events.md does not name: " + ", ".join(sorted(unnamed))
    # "The exact payload of every type <service> records (these and `A`, `B`) ...":
    # the types it adds are that ledger's
    misplaced = [f"{type_} (said {section.ledger}'s)" for section in events_doc_sections()
                 if section.ledger in CATALOGS
                 for paragraph in section.text.split("\n\n")
                 if "The exact payload of every type" in paragraph
                 for type_ in EVENT_TYPE.findall(paragraph)
                 if type_ not in CATALOGS[section.ledger].schemas]
    assert not misplaced, "docs/events.md: not in the ledger's catalog: " + \
        ", ".join(misplaced)


STREAM_ROW = re.compile(r"\|\s*`[a-z]+-<[^`]*>`\s*\|(.*)\|")


@pytest.mark.parametrize("ledger", sorted(SERVICE_DOCS))
def test_a_service_page_names_its_recorded_types_and_only_their_fields(ledger):
    """A service's page lists its types, in a streams table (| `stream` | `Type`
    {fields}, ... |) or an events table (cycle's, with payloads): the same checks against
    the service's own catalog, and every type it records is there."""
    catalog = CATALOGS[ledger].schemas
    wrong, named = [], set()
    for section in sections(SERVICE_DOCS[ledger]):
        if "event" not in section.heading.lower():
            continue
        for type_, cell, _ in section.rows:
            named.add(type_)
            wrong += missing_fields([ledger], type_, payload_fields(cell)[0]) \
                if type_ in catalog else [f"{type_}: not in the {ledger} catalog"]
        for row in STREAM_ROW.finditer(section.text):
            for item in split_items(row.group(1)):
                type_ = EVENT_TYPE.match(item)
                if not type_ or type_.group(1) not in catalog:
                    wrong.append(f"{item}: not in the {ledger} catalog")
                    continue
                named.add(type_.group(1))
                rest = item[type_.end():].strip()
                if rest.startswith("{"):   # `Type` {fields}: dotted under a stand-in
                    names = nested_names(rest[:closing(rest, 0)], "payload")
                    wrong += missing_fields([ledger], type_.group(1),
                                            {name.partition(".")[2] for name in names})
    wrong += [f"{type_}: recorded, not listed" for type_ in sorted(set(catalog) - named)]
    assert not wrong, f"docs/{ledger}.md and the {ledger} catalog differ: " + \
        "; ".join(wrong)


def test_a_misspelt_field_is_found():
    """The reading itself: a wrong name at each depth a table writes is a mismatch."""
    schema = CATALOGS["cycle"].schemas["CycleOpened"]
    common, _ = payload_fields("`code`, `village` {code, name}, `selection` {rank, round}, "
                               "`stage` (1); then `prose`")
    assert common == {"code", "village", "village.code", "village.name", "selection",
                      "selection.rank", "selection.round", "stage"}
    assert all(schema_has(schema, name) for name in common)
    for wrong in ("opened_at", "village.nmae", "selection.event", "village.kabupaten.id"):
        assert not schema_has(schema, wrong), wrong
    assert payload_fields("`code`, `sha256` (x), and its own (planning: `kind`)") == \
        ({"code", "sha256"}, {"planning": {"kind"}})


def test_a_heading_names_any_ledger_name_the_platform_takes(tmp_path):
    """A service may be named with digits and `_` (LEDGER_NAME_PATTERN): its section is
    its ledger's, not read as any service's (docs/services.md, "Adding a service")."""
    page = tmp_path / "events.md"
    page.write_text("## partner marketing (ledger `partner_marketing2`, stream `item-<id>`)\n"
                    "| `ItemOpened` | `code` | nobody |\n")
    assert [section.ledger for section in sections(page)] == ["partner_marketing2"]
