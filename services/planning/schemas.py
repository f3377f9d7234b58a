"""Marshmallow schemas of the planning commands and queries: the one place input is
validated (document content lives in content.py)."""
import base64
import binascii
import re

import orjson
from marshmallow import (Schema, ValidationError, fields, post_load, validate,
                         validates_schema)

from shared.patterns import Pattern
from shared.schemas import AttendanceSchema, PagingSchema, RegionPrefix

from . import rules
from .content import CONTENT, AttachmentRefSchema, Text, unique
from .dates import PastDate

MAX_ATTACHMENT_BYTES = 20 * 2**20
# Allowed media types and how their content starts, so a mislabelled file is refused.
MEDIA_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/vnd.dwg": (b"AC10",),            # AutoCAD drawings: DED
    "application/geo+json": None,           # checked as a JSON object instead
}
ATTACHMENT_KINDS = ("map", "ded_drawing", "minutes", "attendance_list", "photo", "other")
MEETING_TYPES = ("rembug_warga", "musyawarah")


def Version(**options):
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=100000), **options)


class PersonSchema(Schema):
    name = Text(200, required=True)
    position = Text(200, required=True, metadata={"description": "e.g. Lurah Bajur, "
                                                                 "Koordinator BKM"})


# -- attachments ------------------------------------------------------------------------

class Base64Text(validate.Length):
    """The file as one line of base64, at most what MAX_ATTACHMENT_BYTES encodes to. Each
    refusal says what is wrong: an empty text is an empty file, and base64 wrapped in
    lines (`base64 file.pdf` and MIME wrap at 76 columns) is refused as wrapped, before
    its line breaks could make a file at the limit look too big. Taken as sent, never
    repaired (decision 0013). A Length, so OpenAPI shows its minLength and maxLength."""

    def __init__(self):
        super().__init__(min=1, max=4 * (MAX_ATTACHMENT_BYTES // 3 + 1))

    def __call__(self, value):
        if not value:
            raise ValidationError("the file is empty: send its content as base64")
        if len(value) > self.max:
            raise ValidationError(_wrapped(value) or f"the file must not exceed "
                                  f"{MAX_ATTACHMENT_BYTES // 2**20} MiB")
        return value


WHITESPACE = re.compile(r"\s")


def _wrapped(text):
    """Why base64 with spaces or line breaks is refused ("" when it has none); looked for
    only once the text is refused, so a good upload is not scanned twice."""
    return "" if WHITESPACE.search(text) is None else (
        "the base64 has line breaks or spaces: send it on one line (e.g. base64 -w 0 file)")


class UploadSchema(Schema):
    filename = fields.String(required=True, validate=[
        validate.Length(min=1, max=255),
        # no control characters (C0, DEL, C1) nor line or paragraph separators: a name
        # may end up in a download's Content-Disposition; no direction overrides or
        # isolates: "a\u202efdp.png" shows as "agnp.pdf", a name other than the one kept;
        # no lone surrogates: no text, the ledger cannot record them; not only spaces,
        # nor "." or "..": those name no file
        Pattern(r"^(?!\.{1,2}$)(?=.*[^ ])[^/\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e"
                r"\u2066-\u2069\ud800-\udfff]+$",
                error="a file name, without folders, control characters, line separators "
                      "or direction overrides")])
    media_type = fields.String(required=True, validate=validate.OneOf(list(MEDIA_SIGNATURES)))
    kind = fields.String(required=True, validate=validate.OneOf(ATTACHMENT_KINDS))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    content_base64 = fields.String(required=True, validate=Base64Text())

    @post_load
    def decoded(self, data, **kwargs):
        try:
            text = data.pop("content_base64")
            content = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(_wrapped(text) or "not valid base64",
                                  "content_base64") from None
        if len(content) > MAX_ATTACHMENT_BYTES:  # its base64 may be a few bytes longer
            raise ValidationError(f"the file must not exceed {MAX_ATTACHMENT_BYTES // 2**20} "
                                  "MiB", "content_base64")
        if not _looks_like(content, data["media_type"]):
            raise ValidationError(f"the content is not a {data['media_type']} file",
                                  "content_base64")
        return {**data, "content": content}


def _looks_like(content, media_type):
    signatures = MEDIA_SIGNATURES[media_type]
    if signatures is not None:
        return content.startswith(signatures)
    try:
        return isinstance(orjson.loads(content), dict)
    except orjson.JSONDecodeError:
        return False


class VerifyQuerySchema(Schema):
    region = RegionPrefix()


# -- documents --------------------------------------------------------------------------

def version_schema(kind, revision=False):
    """The input schema of a draft (or revision) of a document of this kind."""
    shape = {"content": fields.Nested(CONTENT[kind], required=True),
             "drafted_on": PastDate(required=True),
             "note": fields.String(load_default="", validate=validate.Length(max=2000))}
    if revision:
        shape["based_on"] = Version(required=True, metadata={
            "description": "the version revised; it must still be the latest"})
    return Schema.from_dict(shape, name=f"{kind}_{'revision' if revision else 'draft'}")()


class ApproveSchema(Schema):
    version = Version(required=True)
    meeting_id = fields.String(required=True, validate=validate.Length(min=1, max=120))


class SignSchema(Schema):
    version = Version(required=True)
    step = fields.String(required=True, validate=validate.OneOf(list(rules.STEP_SIGNERS)))
    signer = fields.Nested(PersonSchema, required=True)
    signed_on = PastDate(required=True)


class BappedaSchema(Schema):
    version = Version(required=True)
    consulted_on = PastDate(required=True)
    reference = Text(300, required=True, metadata={"description": "letter or minutes number"})
    official = fields.Nested(PersonSchema, required=True)
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    minutes = fields.Nested(AttachmentRefSchema, load_default=None)


class MusrenbangSchema(Schema):
    version = Version(required=True)
    forum = fields.String(required=True, validate=validate.OneOf(rules.MUSRENBANG_FORUMS))
    reference = Text(300, required=True, metadata={"description": "the forum's register "
                                                                  "number of the proposal"})
    submitted_on = PastDate(required=True)


# -- meetings ---------------------------------------------------------------------------

class ApprovesSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(rules.KINDS))
    version = Version(required=True)


class DecisionSchema(Schema):
    text = Text(5000, required=True)
    approves = fields.Nested(ApprovesSchema, load_default=None, metadata={
        "description": "the document version this decision approves, if any"})


class MeetingSchema(Schema):
    meeting_type = fields.String(required=True, validate=validate.OneOf(MEETING_TYPES))
    held_on = PastDate(required=True)
    place = Text(300, required=True)
    agenda = fields.List(Text(1000), required=True, validate=validate.Length(min=1, max=50))
    chair = fields.Nested(PersonSchema, required=True)
    minute_taker = fields.Nested(PersonSchema, required=True)
    attendance = fields.Nested(AttendanceSchema, required=True)
    attendance_list = fields.Nested(AttachmentRefSchema, required=True, metadata={
        "description": "the scanned, signed attendance list"})
    minutes = fields.Nested(AttachmentRefSchema, load_default=None, metadata={
        "description": "the scanned minutes (berita acara)"})
    decisions = fields.List(fields.Nested(DecisionSchema), required=True,
                            validate=validate.Length(min=1, max=100))

    @validates_schema
    def each_version_approved_once(self, data, **kwargs):
        """Two decisions approving one version would leave unclear which the approval
        rests on."""
        unique(data["decisions"], "decisions", lambda d: d["approves"] and (
            d["approves"]["kind"], d["approves"]["version"]), "approves",
            shown=lambda approves: "approving the {} version {}".format(*approves))


# -- queries ----------------------------------------------------------------------------

class PendingQuerySchema(PagingSchema):
    region = RegionPrefix()
    waiting_for = fields.String(load_default="approval",
                                validate=validate.OneOf(rules.WAITING_FOR))
    kind = fields.String(load_default=None, validate=validate.OneOf(rules.KINDS))


# -- RPC parameters outside a body ---------------------------------------------------------
# A document's kind and a version from the gateway's path, checked with
# shared.schemas.parameter. Whatever is wrong (other text, a number, null), each says what
# the parameter must be.
IS_KIND = "must be one of " + ", ".join(rules.KINDS)
IS_VERSION = "must be a whole number from 1"
KIND = fields.String(validate=validate.OneOf(rules.KINDS, error=IS_KIND),
                     error_messages={"invalid": IS_KIND, "null": IS_KIND})
VERSION = fields.Integer(strict=True, validate=validate.Range(min=1, error=IS_VERSION),
                         error_messages={"invalid": IS_VERSION, "null": IS_VERSION})
