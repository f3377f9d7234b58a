"""A village's history as a printable HTML page: timeline, decisions, who signed.

history_page(code, entries, generated_at, generated_by) returns the whole page as one
string (no external files, fonts or scripts), so an RPC can return it and the gateway
can serve it as it is. Everything taken from events is HTML-escaped.
"""
import re
from html import escape
from string import Template

from shared import regions

DECISION_TYPE = re.compile(
    r"(Decided|Overridden|Selected|Approved|Rejected|Signed|SignedOff|Completed|Opened|"
    r"Ratified|Verified|Acknowledged|Submitted|Published|HandedOver)$")
SIGN_OFF_TYPE = re.compile(r"(Signed|SignedOff|Approved|Ratified|Verified|Acknowledged|"
                           r"Submitted)$")

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Audit history $code</title>
<style>
  body { font: 10.5pt/1.35 "DejaVu Sans", Arial, sans-serif; margin: 1.5cm; color: #111; }
  h1 { font-size: 16pt; margin: 0 0 .2em; } h2 { font-size: 12.5pt; margin: 1.4em 0 .4em;
  border-bottom: 1px solid #999; } .muted { color: #555; }
  table { border-collapse: collapse; width: 100%; margin-bottom: .8em; }
  th, td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; }
  th { background: #eee; } td.mono, span.mono { font-family: "DejaVu Sans Mono", monospace;
  font-size: 8.5pt; word-break: break-all; }
  tr { page-break-inside: avoid; } ul { margin: 0; padding-left: 1.1em; }
  .pass { color: #060; } .fail { color: #a00; } .missing { color: #a60; }
  @page { size: A4 landscape; margin: 1.2cm; }
  @media print { body { margin: 0; } h2 { page-break-after: avoid; } }
</style></head>
<body>
<h1>Audit history of $title</h1>
<p class="muted">$place<br>Generated $generated_at by $generated_by from $count events in
$ledgers. Each event is quoted from its hash-chained ledger; export an audit bundle
(<span class="mono">plpbk audit export $code</span>) to prove them offline.</p>
<h2>Decisions</h2>
$decisions
<h2>Who signed and decided</h2>
$signers
<h2>Timeline</h2>
$timeline
<h2>Attachments</h2>
$attachments
</body></html>
""")


def history_page(code, entries, generated_at, generated_by) -> str:
    official = regions.village(code) or {}
    title = f"{official.get('name', code)} ({code})"
    place = ", ".join(official[key]["name"] for key in ("kecamatan", "kabupaten", "province")
                      if official.get(key)) or "not in the official list"
    return PAGE.substitute(
        code=escape(code), title=escape(title), place=escape(place),
        generated_at=escape(generated_at), generated_by=escape(generated_by),
        count=len(entries),
        ledgers=escape(", ".join(sorted({e["ledger"] for e in entries})) or "no ledger"),
        decisions=_decisions(entries), signers=_signers(entries),
        timeline=_timeline(entries), attachments=_attachments(entries))


def is_decision(entry) -> bool:
    return bool(entry["rule_versions"] or entry["evidence"] or DECISION_TYPE.search(entry["type"]))


def _who(actor):
    return f"{escape(actor['id'])} <span class=\"muted\">({escape(actor['role'])}" + (
        f", {escape(actor['region'])}" if actor.get("region") else "") + ")</span>"


def _table(headers, rows, empty):
    if not rows:
        return f"<p class=\"muted\">{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _rules(entry):
    return "<br>".join(f"{escape(r['field'])} {escape(str(r['id']))} v{escape(str(r['version']))}"
                       for r in entry["rule_versions"])


def _results(entry):
    items = [item for value in entry["payload"].values() if isinstance(value, list)
             for item in value if isinstance(item, dict) and "result" in item]
    return "<ul>" + "".join(
        f"<li class=\"{escape(str(item['result']))}\">"
        f"{escape(str(item.get('criterion') or item.get('name') or ''))}: "
        f"{escape(str(item['result']))} ({escape(str(item.get('value')))} "
        f"{escape(str(item.get('operator', '')))} {escape(str(item.get('threshold', '')))})</li>"
        for item in items) + "</ul>" if items else ""


FACT_LENGTH = 200  # a long text (a reason, notes) is cut here; the JSON history has it whole


def _facts(entry):
    """What the event itself states: its top-level values and flat objects of values
    (signer: name, position), without the village code the page is about. A decision is
    recorded by an account at recorded_at; the day it was taken (signed_on, approved_on)
    and the person who took it are in the payload, and the page must not show the one as
    the other."""
    shown = []
    for key, value in entry["payload"].items():
        if key == "code" or isinstance(value, list):
            continue
        if isinstance(value, dict):
            if not value or any(isinstance(v, (dict, list)) for v in value.values()):
                continue
            value = ", ".join(str(v) for v in value.values())
        text = str(value)
        if len(text) > FACT_LENGTH:
            text = text[:FACT_LENGTH] + "\u2026"
        shown.append(f"{escape(key)}: {escape(text)}")
    return "<br>".join(shown)


def _evidence(entry):
    return "<br>".join(f"{escape(', '.join(e['paths']))} &rarr; {escape(e['type'])} "
                       f"<span class=\"mono\">{escape(e['ledger'])} #{e['position']}</span>"
                       for e in entry["evidence"])


def _decisions(entries):
    rows = [[escape(e["recorded_at"]), escape(e["type"]), _facts(e), _who(e["actor"]),
             _rules(e), _results(e), _evidence(e),
             escape(e["caused_by"]["type"]) if e["caused_by"] else "",
             "<br>".join(escape(c["type"]) for c in e["caused"])]
            for e in entries if is_decision(e)]
    return _table(["recorded", "decision", "as stated", "recorded by", "rule version",
                   "rule results", "evidence", "caused by", "caused"], rows,
                  "No decision about this village is recorded.")


def _signers(entries):
    people = {}
    for entry in entries:
        if entry["actor"]["role"] == "system":
            continue
        key = (entry["actor"]["id"], entry["actor"]["role"], entry["actor"].get("region", ""))
        people.setdefault(key, []).append(entry)
    rows = []
    for (actor_id, role, region), acts in sorted(people.items()):
        signed = [a for a in acts if SIGN_OFF_TYPE.search(a["type"]) or is_decision(a)]
        rows.append([escape(actor_id), escape(role), escape(region or "national"),
                     "<br>".join(f"{escape(a['recorded_at'])} {escape(a['type'])}"
                                 for a in signed) or "&mdash;",
                     str(len(acts))])
    return _table(["who", "role", "region", "signed or decided", "events recorded"], rows,
                  "Only the platform itself acted.")


def _timeline(entries):
    rows = [[escape(e["recorded_at"]), f"<span class=\"mono\">{escape(e['ledger'])} "
             f"#{e['position']}</span>", escape(e["type"]), _who(e["actor"]), _rules(e),
             _evidence(e),
             (f"{escape(e['caused_by']['type'])} <span class=\"mono\">"
              f"{escape(e['caused_by']['ledger'])} #{e['caused_by']['position']}</span>")
             if e["caused_by"] else "",
             f"<span class=\"mono\">{escape(e['event_id'])}</span>"]
            for e in entries]
    return _table(["recorded", "ledger", "event", "actor", "rule version", "evidence",
                   "caused by", "event id"], rows, "No events.")


def _attachments(entries):
    rows = [[escape(e["recorded_at"]), escape(e["type"]), escape(a.get("name") or a["path"]),
             f"<span class=\"mono\">{escape(a['sha256'])}</span>"]
            for e in entries for a in e["attachments"]]
    return _table(["recorded", "event", "file", "sha256"], rows,
                  "No attachment hashes are recorded for this village.")
