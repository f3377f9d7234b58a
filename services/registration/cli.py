"""plpbk import villages FILE.csv: a district's or the whole country's villages at once."""
import csv

import click
from rich.markup import escape
from nameko.exceptions import UnknownService

from shared.chassis.errors import CommandRejected
from shared.cli.common import (EXIT_PROBLEM, EXIT_UNREACHABLE, WholeNumber, amqp_option, console,
                               fail, progress_bar)
from shared.cli.files import not_a_device
from shared.cli.rpc import actor_options, service_proxy

from .schemas import IMPORT_COLUMNS

REQUIRED = ("code", "source_document", "observed_on")
CHUNK = 2000


@click.command("villages")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--show-errors", default=50, show_default=True, type=WholeNumber(min=0),
              help="How many bad rows to list (all are counted).")
@amqp_option
@actor_options
def import_villages(path, show_errors, amqp_uri, actor, role, region):
    """Import villages and their indicator evidence from a CSV file.

    Columns: code, source_document, observed_on (required) and any of poverty_rate,
    slum_area (ya/tidak), slum_hectares, bookkeeping_rating, voter_turnout,
    fund_misuse_cases, pemda_priority (ya/tidak), pemda_decree, and a KOTAKU slum score
    as 16 columns kotaku_<sub-criterion> (0/1/3/5, all or none; the names are in
    docs/registration.md). Each row is validated;
    bad rows are reported by line and record nothing; re-importing a file records
    nothing new. Exit code 1 when any row was bad.
    """
    rows, misshapen = _read(path)
    report = {"recorded": 0, "unchanged": 0, "errors": list(misshapen)}
    with service_proxy(amqp_uri, actor, role, region) as cluster, \
            progress_bar(f"importing {path}", len(rows)) as show:
        done = 0
        for chunk in _chunks(rows):
            try:
                part = cluster.registration.import_rows(chunk, path)
            except UnknownService:
                fail("the registration service is not running (make run)", EXIT_UNREACHABLE)
            except CommandRejected as exc:
                fail(str(exc))
            for key in ("recorded", "unchanged"):
                report[key] += part[key]
            report["errors"].extend(part["errors"])
            done += len(chunk)
            show(done)
    console.print(f"{len(rows) + len(misshapen)} rows: {report['recorded']} recorded, "
                  f"{report['unchanged']} already recorded, {len(report['errors'])} refused")
    for error in sorted(report["errors"], key=lambda e: e["line"] or 0)[:show_errors]:
        console.print(f"  line {error['line']}: {escape(error['reason'])}", highlight=False,
                      soft_wrap=True)
    if report["errors"]:
        raise SystemExit(EXIT_PROBLEM)


def _chunks(rows):
    """Rows in calls of about CHUNK rows, in file order but every row of a village in the
    same call: the service tells a re-run from a correction by the village's later rows."""
    villages = {}
    for row in rows:
        villages.setdefault(row["code"], []).append(row)
    chunk = []
    for village in villages.values():
        if chunk and len(chunk) + len(village) > CHUNK:
            yield chunk
            chunk = []
        chunk.extend(village)
    if chunk:
        yield chunk


def _read(path):
    not_a_device(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED if c not in header]
            unknown = [c for c in header if c not in IMPORT_COLUMNS]
            if missing:
                hint = "; the header is cut by ';', not ',': save the sheet as CSV with " \
                    "commas" if len(header) == 1 and ";" in header[0] else ""
                fail(f"{path}: missing column(s) {', '.join(missing)}{hint}")
            if unknown:
                fail(f"{path}: unknown column(s) {', '.join(unknown)}; known: "
                     f"{', '.join(IMPORT_COLUMNS)}")
            rows, misshapen = [], []
            for row in reader:
                extra, short = row.pop(None, None), None in row.values()
                if extra or short:
                    # a comma in an unquoted value shifts every later cell: name it here,
                    # rather than let the schema see a nameless or an empty column
                    misshapen.append({"line": reader.line_num, "reason": (
                        f"{len(header) + len(extra)} cells where the header has "
                        f"{len(header)} columns (quote values that contain a comma)"
                        if extra else f"fewer cells than the header's {len(header)} columns")})
                else:
                    rows.append({**row, "line": reader.line_num})
            return rows, misshapen
    except (UnicodeDecodeError, csv.Error) as exc:
        fail(f"{path}: not a readable UTF-8 CSV file ({exc})")
