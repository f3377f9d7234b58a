"""Planning read models and queries.

Collections (keys start with the village code, so a region is a key prefix):
  documents    <code>-<kind>           one per document: latest version and its status
  versions     <code>-<kind>@<00001>   every version: content, totals, approval, sign-offs
  meetings     <meeting_id>            the meeting record and the approvals it gave
  attachments  <code>:<sha256>         what was uploaded, by whom and when
A version folds with domain.evolve_version, the same function the decider uses.
"""
from shared.chassis.errors import NotFound
from shared.chassis.subscribers import Projection, handles

from . import diff, domain, rules

VERSION_EVENTS = ("DocumentApproved", "DocumentSigned", "BappedaConsulted",
                  "DocumentSignedOff", "DocumentSubmittedToMusrenbang")


def version_key(document_id, version):
    return f"{document_id}@{version:05d}"


def _who(record):
    return {"actor": record.actor, "recorded_at": record.recorded_at,
            "event_id": record.event_id}


def _has(entries, record) -> bool:
    """Whether a list of _who entries holds this event: each is appended once only (a
    handler may run again on the same record: its retry, or the events after the last
    saved position when durable views outlive a process that died)."""
    return any(entry.get("event_id") == record.event_id for entry in entries)


class PlanningBoard(Projection):
    name = "planning_board"
    collections = ("documents", "versions", "meetings", "attachments")

    def __init__(self, context):
        super().__init__(context)
        self.documents = self.views.collection("documents")
        self.versions = self.views.collection("versions")
        self.versions.ensure_index("next_step")
        self.meetings = self.views.collection("meetings")
        self.attachments = self.views.collection("attachments")

    @handles("AttachmentStored")
    def attachment(self, record):
        p = record.payload
        self.attachments.put(f"{p['code']}:{p['sha256']}", {**p, "uploaded": _who(record)})

    @handles("DocumentDrafted", "DocumentRevised")
    def drafted(self, record):
        p = record.payload
        previous = self.documents.get(p["document_id"]) if p["version"] > 1 else None
        village = previous["village_name"] if previous else p["village_name"]
        self.versions.put(version_key(p["document_id"], p["version"]), {
            **domain.new_version(p), "code": p["code"], "kind": p["kind"],
            "document_id": p["document_id"], "village_name": village, "superseded_by": None,
            "replaced_by": None,
            "next_step": "approval", "drafted": _who(record), "history": []})
        if previous:
            self._change(p["document_id"], previous["latest_version"],
                         lambda doc: doc.update(superseded_by=p["version"]))
        self.documents.put(p["document_id"], {
            "document_id": p["document_id"], "code": p["code"], "kind": p["kind"],
            "village_name": village, "latest_version": p["version"],
            "approved_version": previous["approved_version"] if previous else None,
            "versions": (previous["versions"] if previous else []) + [
                {"version": p["version"], "status": "draft", "drafted_on": p["drafted_on"]}]})
        self._summarise(p["document_id"])

    @handles(*VERSION_EVENTS)
    def version_event(self, record):
        p = record.payload

        def change(doc):
            if _has(doc["history"], record):   # applied already: a retry or a replay
                return
            domain.evolve_version(doc, record)
            doc["history"].append({"type": record.type, **_who(record)})
            if record.type == "DocumentSigned":
                doc["sign_offs"][p["step"]][p["capacity"]]["actor"] = record.actor
            if record.type == "DocumentApproved":
                doc["approval"]["attendance"] = p["attendance"]
        self._change(p["document_id"], p["version"], change)
        if record.type == "DocumentApproved":
            self._replace_older(p["document_id"], p["version"])
            def approval(meeting):
                if not _has(meeting["approvals"], record):
                    meeting["approvals"].append({
                        "kind": p["kind"], "version": p["version"],
                        "document_id": p["document_id"], **_who(record)})
            self.meetings.update(p["meeting_id"], approval)
        self._summarise(p["document_id"])

    @handles("MeetingRecorded")
    def meeting(self, record):
        p = record.payload
        self.meetings.put(p["meeting_id"], {**p, "recorded": _who(record), "approvals": []})

    def _replace_older(self, document_id, approved):
        """An approval replaces every older approved version (domain.replaced_by): it
        waits for no further step and leaves the pending lists."""
        for older in self.versions.find({"_id": {"$prefix": document_id + "@"}}):
            if older["version"] < approved and older["status"] != "draft" \
                    and not older.get("replaced_by"):
                self._change(document_id, older["version"],
                             lambda doc: doc.update(replaced_by=approved))

    def _change(self, document_id, version, change):
        def change_and_restate(doc):
            change(doc)
            superseded_draft = doc["status"] == "draft" and doc["superseded_by"]
            done_with = superseded_draft or doc.get("replaced_by")  # None in older views
            doc["next_step"] = None if done_with else rules.next_step(doc["kind"], doc)
        self.versions.update(version_key(document_id, version), change_and_restate)

    def _summarise(self, document_id):
        """Restate the document summary from its versions."""
        versions = self.versions.find({"_id": {"$prefix": document_id + "@"}})
        latest = versions[-1]
        approved = [v["version"] for v in versions if v["status"] != "draft"]
        self.documents.update(document_id, lambda doc: doc.update(
            status=latest["status"], next_step=latest["next_step"],
            approved_version=max(approved) if approved else None,
            versions=[{"version": v["version"], "status": v["status"],
                       "drafted_on": v["drafted_on"], "next_step": v["next_step"]}
                      for v in versions]))


# -- queries ------------------------------------------------------------------------------

def _public(doc):
    """A view document as answered: without the view store's key `_id`, which only
    repeats its document_id, meeting_id or code:sha256 and is no part of the API."""
    return {key: value for key, value in doc.items() if key != "_id"}


def documents_of(views, code):
    found = views.collection("documents").find({"_id": {"$prefix": code + "-"}})
    return sorted(map(_public, found), key=lambda doc: rules.KINDS.index(doc["kind"]))


def version(views, code, kind, number, field="version"):
    """One version; a missing one is NotFound naming the request's field that asked for it."""
    doc = views.collection("versions").get(version_key(domain.document_id(code, kind), number))
    if doc is None:
        raise NotFound(f"the {kind} of {code} has no version {number}", field)
    return _public(doc)


def version_diff(views, code, kind, old, new):
    before = version(views, code, kind, old, "from_version")
    after = version(views, code, kind, new, "to_version")
    result = {"document_id": before["document_id"], "from_version": old, "to_version": new,
              "changes": diff.diff(before["content"], after["content"])}
    if kind == "rtplp":
        result["totals"] = diff.diff(before["totals"], after["totals"], "totals")
    return result


def meeting(views, meeting_id):
    doc = views.collection("meetings").get(meeting_id)
    if doc is None:
        raise NotFound(f"meeting {meeting_id} is not recorded", "meeting_id")
    return _public(doc)


def approval_record(views, code, kind, number):
    """The approval of a version and the meeting behind it (attendance, decisions)."""
    found = version(views, code, kind, number)
    if found["approval"] is None:
        raise NotFound(f"version {number} of the {kind} of {code} is not approved", "version")
    return {"document_id": found["document_id"], "version": number,
            "approval": found["approval"],
            "meeting": meeting(views, found["approval"]["meeting_id"])}


def pending(views, region, waiting_for, kind, page, page_size):
    """Versions in a region that wait for a step (by default: a meeting's approval)."""
    query = {"next_step": waiting_for}
    if region:
        query["_id"] = {"$prefix": region}
    if kind:
        query["kind"] = kind
    versions = views.collection("versions")
    total = versions.count(query)
    items = versions.find(query, skip=(page - 1) * page_size, limit=page_size)
    return {"items": [{k: doc[k] for k in ("document_id", "code", "village_name", "kind",
                                           "version", "status", "drafted_on", "next_step")}
                      for doc in items],
            "total": total, "page": page, "page_size": page_size, "waiting_for": waiting_for}


def attachments_of(views, code, page, page_size):
    """A village's uploaded files, oldest first, paged like every other list."""
    query = {"_id": {"$prefix": code + ":"}}
    attachments = views.collection("attachments")
    items = attachments.find(query, sort=[("uploaded.recorded_at", 1), ("_id", 1)],
                             skip=(page - 1) * page_size, limit=page_size)
    return {"items": [_public(doc) for doc in items], "total": attachments.count(query),
            "page": page, "page_size": page_size}
