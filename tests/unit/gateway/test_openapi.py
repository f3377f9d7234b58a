"""The OpenAPI document: generated from the routes and the schemas that validate them."""
import re

import orjson
import pytest
from marshmallow import ValidationError

from services.gateway import event_payloads, openapi
from services.gateway.routes import ROUTES
from tests.integration.gateway import documented


@pytest.fixture(scope="module")
def document():
    return openapi.document(ROUTES)


def operations(document):
    return {op["operationId"]: op for item in document["paths"].values()
            for op in item.values()}


def test_every_route_is_an_operation_at_its_path(document):
    assert document["openapi"].startswith("3.")
    found = operations(document)
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.name
    assert len(found) == len(ROUTES) == len({r.name for r in ROUTES})


def test_request_bodies_are_the_validating_schemas(document):
    schemas = document["components"]["schemas"]
    for route in ROUTES:
        if route.body is None:
            continue
        operation = document["paths"][route.path][route.method.lower()]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        name = ref.rsplit("/", 1)[1]
        assert set(schemas[name]["properties"]) == {
            f.data_key or n for n, f in route.body().load_fields.items()}, route.name


def test_auth_schemes_and_who_needs_them(document):
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth"}
    for route in ROUTES:
        security = document["paths"][route.path][route.method.lower()]["security"]
        assert ({} in security) == route.public
        assert {"bearerAuth": []} in security and {"apiKeyAuth": []} in security


def test_every_error_shape_is_documented(document):
    assert sorted(document["components"]["schemas"]["Error"]["required"]) == [
        "error", "field", "message"]
    for route in ROUTES:
        responses = document["paths"][route.path][route.method.lower()]["responses"]
        for status in ("400", "401", "403", "404", "502", "503"):
            assert status in responses, (route.name, status)
        if route.body is not None:
            assert {"413", "415"} <= set(responses)


def test_writes_take_an_idempotency_key(document):
    assert not next(r for r in ROUTES if r.name == "change_password").replayable
    for route in ROUTES:
        names = [p.get("name") for p in
                 document["paths"][route.path][route.method.lower()]["parameters"]]
        assert "X-Correlation-Id" in names
        assert ("Idempotency-Key" in names) == (route.writes and not route.public and
                                                route.name not in NOTHING_KEPT), route.name


NOTHING_KEPT = ("change_password",      # its answer holds a live token
                "log_out",              # a retry's token is ended: its 401 says so
                "audit_export_bundle")  # read-only, and as large as a region's records


def test_schemas_of_different_services_keep_their_names(document):
    names = set(document["components"]["schemas"])
    assert {"Member", "Attendance", "RegistrationBkm", "CycleActivity", "Error",
            "Login"} <= names  # shared pieces once, service schemas by service
    assert not [name for name in names if name[-1].isdigit()]   # no Member1, Member2


def test_decimals_are_strings_and_the_document_is_plain_json(document):
    orjson.dumps(document)
    indicators = document["components"]["schemas"]["RegistrationIndicatorValues"][
        "properties"]
    assert indicators["poverty_rate"]["type"] == "string"
    assert "at most 100" in indicators["poverty_rate"]["description"]


MOMENTS_TAKEN = ["2026-03-01", "2026-03-01T08:00Z", "2026-03-01T08:00:00+07:00",
                 "2026-03-01T08:00:00.123456-03:30"]
MOMENTS_REFUSED = ["2026-03-01T08:00", "20260301", " 2026-03-01", "2026-03-01t08:00Z",
                   "2026-03-01T08:00+0700", "2026-03-01 08:00Z", "2026-W09-1"]


def test_every_moment_states_its_forms(document):
    """Every `as_of`, and an audit bundle's `from` and `to`, is read by shared.moments:
    a date or a time with zone. The bundle's were bare strings (no format, pattern or
    words): a client generated from the document could not know what to send."""
    from shared import moments
    found = [(parameter["schema"], parameter.get("description", ""))
             for item in document["paths"].values() for op in item.values()
             for parameter in op["parameters"] if parameter["name"] == "as_of"]
    bundle = document["components"]["schemas"]["Bundle"]["properties"]
    found += [(bundle[name], bundle[name].get("description", "")) for name in ("from", "to")]
    assert len(found) >= 8
    for schema, words in found:
        assert schema["pattern"] == openapi.MOMENT_PATTERN
        assert "ISO-8601" in words, schema
    pattern = re.compile(openapi.MOMENT_PATTERN)
    for text in MOMENTS_TAKEN:
        moments.read(text)
        assert pattern.search(text), text
    for text in MOMENTS_REFUSED:
        with pytest.raises(ValidationError):
            moments.read(text)
        assert not pattern.search(text), text


def test_what_the_services_refuse_is_stated_for_generated_clients(document):
    """A client generated from the document sent what it allowed and got 400s: a null
    rule threshold, an empty indicators object, a plan year before 2000, a date before
    2000 or in the future, a bundle naming both a village and a region."""
    schemas = document["components"]["schemas"]
    threshold = schemas["RegistrationCriterion"]["properties"]["threshold"]
    assert [kind["type"] for kind in threshold["oneOf"]] == ["string", "integer", "boolean"]
    assert schemas["RegistrationRecordIndicators"]["properties"]["indicators"][
        "minProperties"] == 1
    assert schemas["PlanningHorizon"]["properties"]["start_year"]["minimum"] == 2000
    assert "not before 2000-01-01, not in the future" in \
        schemas["PlanningSign"]["properties"]["signed_on"]["description"]
    bundle = schemas["Bundle"]["properties"]
    assert "not both" in bundle["village"]["description"] and \
        "not both" in bundle["region"]["description"]


def test_the_headers_answers_carry_are_documented(document):
    """Location on what a 201 creates, WWW-Authenticate on a 401, Retry-After on a 429:
    a generated client only reads the headers the document names."""
    located = {route.name for route in ROUTES if route.location}
    assert located == {"register_village", "record_meeting", "upload_attachment"} | {
        f"{step}_{kind}" for step in ("draft", "revise")
        for kind in ("rplp", "rtplp", "aturan_bersama", "marketing_strategy")}
    for route in ROUTES:
        created = document["paths"][route.path][route.method.lower()]["responses"][
            str(route.status)]
        assert ("Location" in created["headers"]) == (route.name in located), route.name
    responses = document["components"]["responses"]
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in responses["429"]["headers"]
    assert "Accept-Encoding" in responses["415"]["headers"]


def test_the_services_answers_name_their_fields(document):
    """Systems generate their clients from the document: every JSON success answer of
    registration, the cycle, planning and audit names its required fields (it was `{}` with anything in it),
    and so do the items of its pages."""
    schemas = document["components"]["schemas"]

    def named(schema):
        schema = schema.get("items", schema)   # a JSON array of them
        return schemas[schema["$ref"].rsplit("/")[-1]] if "$ref" in schema else schema

    untyped = []
    for operation in operations(document).values():
        if operation["tags"][0] not in ("registration", "cycle", "planning", "audit"):
            continue
        success = next(answer for status, answer in operation["responses"].items()
                       if status.startswith("2"))
        if "application/json" not in success["content"]:
            continue   # the printable HTML report
        answer = named(success["content"]["application/json"]["schema"])
        items = answer.get("properties", {}).get("items")
        for schema in [answer] + ([named(items)] if items else []):
            # typed by event type: each of its schemas (event_payloads.ByEventType)
            for typed in [named(one) for one in schema.get("oneOf", [])] or [schema]:
                if not typed.get("required"):
                    untyped.append(operation["operationId"])
    assert untyped == []


def _ref(schema):
    return schema["$ref"].rsplit("/", 1)[1]


def _typed_payloads(document, union, catalogs):
    """type -> (entry, payload component) of a ByEventType union, each checked: the
    entry's `type` is that type alone and its payload the type's catalog schema."""
    schemas = document["components"]["schemas"]
    mapping = schemas[union]["discriminator"]["mapping"]
    assert schemas[union]["discriminator"]["propertyName"] == "type"
    assert [one["$ref"] for one in schemas[union]["oneOf"]] == list(mapping.values())
    found = {}
    for type_, ref in mapping.items():
        entry = schemas[ref.rsplit("/", 1)[1]]
        assert entry["properties"]["type"]["enum"] == [type_]
        assert "type" in entry["required"] and "payload" in entry["required"]
        payload = entry["properties"]["payload"]
        assert "never upcast" in payload["description"]
        name = _ref(payload["allOf"][0])
        schema = event_payloads.payload_schemas(catalogs)[type_]
        assert name == schema.__name__.removesuffix("Schema"), type_  # no service prefix
        assert set(schemas[name]["properties"]) == {
            field.data_key or key for key, field in schema().fields.items()}, type_
        found[type_] = name
    return found


def test_an_audit_events_payload_is_typed_by_its_type_from_the_services_catalogs(document):
    """The history, a decision and its evidence name per event type the payload's fields,
    from the catalogs the services check every payload against before recording it (the
    payload was a free-form object: no schema existed)."""
    typed = _typed_payloads(document, "ExplainedEvent", None)
    assert set(typed) == {type_ for catalog in event_payloads.CATALOGS.values()
                          for type_ in catalog.schemas}
    assert typed["VillageRegistered"] == "VillageRegisteredPayload"
    schemas = document["components"]["schemas"]
    assert schemas["AuditHistoryPage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/ExplainedEvent"}
    assert _ref(schemas["Decision"]["properties"]["event"]) == "ExplainedEvent"
    assert _ref(schemas["BasedOn"]["properties"]["event"]) == "ExplainedEvent"


def test_the_eligibility_history_is_typed_from_registrations_catalog(document):
    """Its hand-kept union of four types' fields (HistoryPayload) is gone: each decision
    type's entry has registration's payload schema of that type."""
    from services.registration import views
    typed = _typed_payloads(document, "HistoryEntry", {
        "registration": event_payloads.CATALOGS["registration"]})
    assert list(typed) == list(views.DECISION_TYPES)
    page = document["components"]["schemas"]["EligibilityHistoryPage"]
    assert _ref(page["properties"]["items"]["items"]) == "HistoryEntry"
    assert "HistoryPayload" not in document["components"]["schemas"]


def test_a_type_two_ledgers_record_needs_one_schema():
    """Entries are told apart by `type` alone: one type, one payload schema."""
    from marshmallow import Schema

    from shared.chassis.payloads import EventCatalog

    class Noted(Schema):
        pass

    class OtherNoted(Schema):
        pass

    same = event_payloads.payload_schemas({"a": EventCatalog({"Noted": Noted}),
                                           "b": EventCatalog({"Noted": Noted})})
    assert same == {"Noted": Noted}
    with pytest.raises(ValueError, match="Noted has two payload schemas"):
        event_payloads.payload_schemas({"a": EventCatalog({"Noted": Noted}),
                                        "b": EventCatalog({"Noted": OtherNoted})})


REGISTERED = {"code": "52.01.08.2006", "name": "Bajur", "kind": "kelurahan",
              "kecamatan": {"code": "52.01.08", "name": "Labuapi"},
              "kabupaten": {"code": "52.01", "name": "Lombok Barat"},
              "province": {"code": "52", "name": "Nusa Tenggara Barat"}}
EXPLAINED = {"ledger": "registration", "position": 1, "event_id": "0" * 8 + "-0000-4000-8000-"
             + "0" * 12, "type": "VillageRegistered", "stream_id": "village-52.01.08.2006",
             "recorded_at": "2026-11-29T00:00:00.000000Z",
             "actor": {"id": "user:dinas", "role": "district", "region": "52.01"},
             "stream_version": 1, "schema_version": 1,
             "occurred_at": "2026-11-29T00:00:00.000000Z", "correlation_id": "c",
             "causation_id": None, "caused_by": None, "caused": [], "rule_versions": [],
             "evidence": [], "attachments": [], "payload": REGISTERED}


@pytest.mark.parametrize("entry, refused", [
    (EXPLAINED, False),
    ({**EXPLAINED, "payload": {**REGISTERED, "rank": 1}}, True),     # a field not its type's
    ({**EXPLAINED, "payload": {"code": "52.01.08.2006"}}, True),     # its fields missing
    ({**EXPLAINED, "type": "EligibilityDecided"}, True),            # another type's payload
    ({**EXPLAINED, "type": "VillageRenamed"}, True),                # a type no catalog has
])
def test_a_client_reads_an_events_payload_by_its_type(document, entry, refused):
    """What a generated client checks an audit event against: its type's payload schema
    (it took any object before)."""
    found = documented.refused(document, {"$ref": "#/components/schemas/ExplainedEvent"}, entry)
    assert bool(found) == refused, found
