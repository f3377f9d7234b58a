"""plpbk import villages FILE.csv: a district's or the whole country's villages at once."""
import codecs
import csv
import io
import re
from contextlib import contextmanager

import click
from rich.markup import escape
from nameko.exceptions import UnknownService

from shared.chassis.errors import CommandRejected
from shared.cli.common import (EXIT_PROBLEM, EXIT_UNREACHABLE, WholeNumber, amqp_option, console,
                               errors, fail, progress_bar)
from shared.cli.files import not_a_device
from shared.cli.rpc import actor_options, service_proxy

from .schemas import IMPORT_COLUMNS

REQUIRED = ("code", "source_document", "observed_on")
DECIMAL_COLUMNS = ("poverty_rate", "slum_hectares", "voter_turnout")
DECIMAL_COMMA = re.compile(r"-?[0-9]+,[0-9]+")
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
    docs/registration.md). UTF-8, cells cut by ',' or ';' (then 30,5 is 30.5), header
    names in any case, dates YYYY-MM-DD. Each row is validated;
    bad rows are reported by line and record nothing; importing a file again records
    nothing twice (only a value it corrects back, of its own document and date).
    Exit code 1 when any row was bad.

    Needs the registration service running (make run): the rows are sent to it over
    RabbitMQ (--amqp) and recorded in its ledger as --actor.
    """
    rows, misshapen = _read(path)
    report = {"recorded": 0, "unchanged": 0, "errors": list(misshapen)}
    with service_proxy(amqp_uri, actor, role, region) as cluster, \
            progress_bar(f"importing {path}", len(rows)) as show, \
            _said_if_stopped(path, len(rows), report) as sent:
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
            sent.append(len(chunk))
            show(sum(sent))
    console.print(f"{len(rows) + len(misshapen)} rows: {report['recorded']} recorded, "
                  f"{report['unchanged']} already recorded, {len(report['errors'])} refused")
    for error in sorted(report["errors"], key=lambda e: e["line"] or 0)[:show_errors]:
        console.print(f"  line {error['line']}: {escape(error['reason'])}", highlight=False,
                      soft_wrap=True)
    if report["errors"]:
        raise SystemExit(EXIT_PROBLEM)


@contextmanager
def _said_if_stopped(path, total, report):
    """Yields the list of row counts sent; an import stopped after some (Ctrl-C, the
    service gone, no answer) says what they recorded and that a re-run is safe."""
    sent = []
    try:
        yield sent
    except BaseException:
        if sent:
            errors.print(
                f"{escape(str(path))}: {sum(sent)} of {total} rows were sent before it "
                f"stopped ({report['recorded']} recorded, {report['unchanged']} already "
                f"recorded, {len(report['errors'])} refused); the service may have recorded "
                "some of the rest: importing the file again is safe (what is recorded is "
                "not recorded twice) and completes it", highlight=False, soft_wrap=True)
        raise


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
    """(rows as {column: cell, "line": first line}, rows refused as {line, reason})."""
    not_a_device(path)
    with open(path, "rb") as handle:
        data = handle.read().removeprefix(codecs.BOM_UTF8)   # Excel's "CSV UTF-8" writes one
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Excel's plain "CSV (Comma delimited)" writes the Windows code page, not UTF-8
        line = data[:exc.start].count(b"\n") + 1
        fail(f"{path}: not a readable UTF-8 CSV file: line {line} holds a byte "
             f"(0x{data[exc.start]:02x}) UTF-8 does not have; save it from Excel as "
             '"CSV UTF-8 (Comma delimited)"')
    return _rows(path, text)


def _rows(path, text):
    delimiter = _delimiter(text)
    # strict: a stray quote is named by its line, never read into a mangled cell
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = _records(path, reader)
    _line, _end, header = next(records, (None, None, []))
    names = _columns(path, header)
    rows, misshapen = [], []
    for line, end, cells in records:
        problem = _shape_problem(names, delimiter, line, end, cells)
        if problem:
            misshapen.append({"line": line, "reason": problem})
            continue
        row = {name: cell for name, cell in zip(names, cells) if name}
        if delimiter == ";":   # that Excel writes 30,5 for 30.5
            row.update({name: row[name].replace(",", ".") for name in DECIMAL_COLUMNS
                        if DECIMAL_COMMA.fullmatch(row.get(name) or "")})
        rows.append({**row, "line": line})
    return rows, misshapen


def _shape_problem(names, delimiter, line, end, cells):
    """Why a row's cells cannot be read as the header's columns, or None. Named here,
    rather than let the schema see shifted, nameless or run-on cells."""
    swallowed = re.compile(r"[\r\n]([0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4})" +
                           re.escape(delimiter))
    run_on = end > line and next(filter(None, map(swallowed.search, cells)), None)
    if run_on:   # a stray quote closed by a quote of a later row
        return (f"a quoted cell runs on from line {line} to line {end} and holds what "
                f"looks like another row ({run_on.group(1)}{delimiter}...): close the "
                f"quote opened on line {line}, or double a quote meant as text")
    if len(cells) > len(names):   # a separator in an unquoted value shifts later cells
        return (f"{len(cells)} cells where the header has {len(names)} columns (quote "
                f"values that contain a {'semicolon' if delimiter == ';' else 'comma'})")
    if len(cells) < len(names):
        return f"fewer cells than the header's {len(names)} columns"
    stray = [n for n, (name, cell) in enumerate(zip(names, cells), 1) if not name and cell]
    if stray:
        return (f"a value in column {stray[0]}, which has no name in the header: name the "
                "column or empty the cell")
    return None


def _delimiter(text):
    """';' when the header is cut by ';' and holds no ',' (Excel's "CSV" in Indonesian
    and most European settings), else ','."""
    header = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    return ";" if ";" in header and "," not in header else ","


def _records(path, reader):
    """(first line, last line, cells) of each row, skipping blank lines and rows of
    empty cells; a row the csv module cannot read stops the import, naming its line."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            fail(f"{path}: line {line}: {_csv_problem(exc)}; nothing was imported")
        if cells is None:
            return
        if any(cell.strip() for cell in cells):
            yield line, reader.line_num, cells


def _csv_problem(exc):
    """What a csv.Error (strict) says to someone who wrote the file."""
    if "end of data" in str(exc):
        return "a quote opened there is never closed"
    if "field limit" in str(exc):   # no column holds that much: an open quote ran on
        return (f"a quote opened there is never closed (its cell runs on past "
                f"{csv.field_size_limit()} characters)")
    if "expected after" in str(exc):
        return 'a quote inside a quoted cell must be doubled ("")'
    return f"not a readable CSV row ({exc})"


def _columns(path, header):
    """The header's column names, in any case and without spaces around them ("" for a
    column with no name); a missing, unknown or twice-named column stops the import."""
    if not header:
        optional = [c for c in IMPORT_COLUMNS if c not in REQUIRED]
        fail(f"{path}: the file is empty (no header line; the columns are "
             f"{', '.join(REQUIRED)} and any of {', '.join(optional)})")
    names = [cell.strip().lower() for cell in header]
    twice = next((name for name in names if name and names.count(name) > 1), None)
    if twice:
        at = [str(n) for n, name in enumerate(names, 1) if name == twice]
        fail(f"{path}: column {twice} is named twice in the header (columns "
             f"{' and '.join(at)}): which of its cells holds the value?")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        fail(f"{path}: missing column(s) {', '.join(missing)}")
    unknown = [cell.strip() for cell, name in zip(header, names)
               if name and name not in IMPORT_COLUMNS]
    if unknown:
        fail(f"{path}: unknown column(s) {', '.join(unknown)}; known: "
             f"{', '.join(IMPORT_COLUMNS)}")
    return names
