"""`plpbk import villages FILE.csv` end to end: the real console script in a subprocess,
the registration service in a nameko container, the real RabbitMQ."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from services.registration import rules
from services.registration.cli import CHUNK
from shared import regions
from shared.chassis.errors import NotFound

from .support import proxy

PLPBK = os.path.join(os.path.dirname(sys.executable), "plpbk")
MINISTRY = {"id": "kemen-1", "role": "ministry", "region": ""}
HEADER = ("code,source_document,observed_on,poverty_rate,slum_area,slum_hectares,"
          "bookkeeping_rating,voter_turnout,fund_misuse_cases,pemda_priority,pemda_decree")
GOOD_ELIGIBLE = "52.01.08.2001,BPS 2024,2024-01-01,30,ya,4.5,baik,35,0,ya,SK Bupati 1"
GOOD_INELIGIBLE = "52.01.08.2004,BPS 2024,2024-01-01,,,,,20,,,"
BAD_ROWS = {
    # line -> (row, words the reason must contain)
    3: ("52.01.08.9999,BPS 2024,2024-01-01,30,,,,,,,", ["code", "official"]),
    4: ("52.01.08.2002,BPS 2024,2024-01-01,130,,,,,,,", ["poverty_rate"]),
    5: ("52.01.08.2003,BPS 2024,2024-01-01,,,,,,,ya,", ["pemda_decree", "decree"]),
    7: ("52.01.08.2005,BPS 2024,2999-01-01,30,,,,,,,", ["observed_on", "future"]),
    8: ("52.01.08.2006,BPS 2024,2024-01-01,,,,bagus,,,,", ["bookkeeping_rating"]),
    9: ("52.01.08.2007,,2024-01-01,30,,,,,,,", ["source_document"]),
}
MIXED = "\n".join([HEADER, GOOD_ELIGIBLE, BAD_ROWS[3][0], BAD_ROWS[4][0], BAD_ROWS[5][0],
                   GOOD_INELIGIBLE, BAD_ROWS[7][0], BAD_ROWS[8][0], BAD_ROWS[9][0]]) + "\n"




def plpbk(config, *args, timeout=120):
    env = {**os.environ, "AMQP_URI": config["AMQP_URI"], "PLPBK_NO_PROGRESS": "1"}
    for name in ("PLPBK_ACTOR", "PLPBK_ROLE", "PLPBK_REGION"):
        env.pop(name, None)
    return subprocess.run([PLPBK, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def import_file(config, path, *options):
    return plpbk(config, "import", "villages", str(path), *options)


def flat(text):
    """Output with line wrapping undone (rich wraps at the terminal width)."""
    return " ".join(text.split())


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path




def ledger_head(config):
    with proxy(config) as service:
        return service.status()["ledger_head"]


def report_lines(stdout):
    """{line number: reason} from the report's `line N: reason` entries (after the summary
    line; wrapped lines joined again)."""
    listing = flat(stdout).split(" refused", 1)[1]
    return {int(number): reason.strip() for number, reason in
            re.findall(r"line (\d+): (.*?)(?= line \d+: |$)", listing)}


def assert_no_traceback(result):
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


# -- good and bad rows ---------------------------------------------------------------------------

def test_good_rows_are_recorded_bad_rows_reported_by_line_and_nothing_of_them_recorded(
        registration, tmp_path):
    path = write(tmp_path, "lombok-barat.csv", MIXED)
    result = import_file(registration, path, "--actor", "importer-7", "--role", "district",
                         "--region", "52.01")
    assert result.returncode == 1, result
    assert_no_traceback(result)
    assert "8 rows: 2 recorded, 0 already recorded, 6 refused" in flat(result.stdout)
    reasons = report_lines(result.stdout)
    assert sorted(reasons) == sorted(BAD_ROWS)
    for line, (_row, words) in BAD_ROWS.items():
        for word in words:
            assert word in reasons[line], (line, reasons[line])

    with proxy(registration) as service:
        eligible = service.get_village("52.01.08.2001")
        assert eligible["status"] == "eligible"
        assert eligible["indicators"]["poverty_rate"]["value"] == "30.00"
        assert eligible["indicators"]["slum_area"]["value"] == {"present": True,
                                                                "hectares": "4.50"}
        assert eligible["indicators"]["pemda_priority"]["value"] == {
            "prioritised": True, "decree_reference": "SK Bupati 1"}
        assert eligible["indicators"]["poverty_rate"]["source_document"] == "BPS 2024"
        assert eligible["indicators"]["poverty_rate"]["recorded_by"] == "importer-7"
        assert service.get_village("52.01.08.2004")["status"] == "ineligible"
        for code in ["52.01.08.2002", "52.01.08.2003", "52.01.08.2005", "52.01.08.2006",
                     "52.01.08.2007"]:
            with pytest.raises(NotFound):
                service.get_village(code)        # nothing of a bad row is recorded
        assert service.list_villages({"region": "52"})["total"] == 2


def test_re_running_the_same_file_records_nothing_new(registration, tmp_path):
    path = write(tmp_path, "villages.csv", MIXED)
    first = import_file(registration, path)
    assert first.returncode == 1 and "2 recorded" in flat(first.stdout)
    head = ledger_head(registration)
    with proxy(registration) as service:
        decision = service.get_village("52.01.08.2001")["decision"]

    again = import_file(registration, path)
    assert again.returncode == 1
    assert_no_traceback(again)
    assert "8 rows: 0 recorded, 2 already recorded, 6 refused" in flat(again.stdout)
    assert sorted(report_lines(again.stdout)) == sorted(BAD_ROWS)
    assert ledger_head(registration) == head
    with proxy(registration) as service:
        assert service.get_village("52.01.08.2001")["decision"] == decision


def test_a_file_of_good_rows_exits_0_and_a_changed_row_is_recorded_again(
        registration, tmp_path):
    path = write(tmp_path, "good.csv", "\n".join([HEADER, GOOD_ELIGIBLE, GOOD_INELIGIBLE]))
    result = import_file(registration, path)
    assert result.returncode == 0, result
    assert_no_traceback(result)
    assert "2 rows: 2 recorded, 0 already recorded, 0 refused" in flat(result.stdout)
    assert report_lines(result.stdout) == {}

    corrected = GOOD_INELIGIBLE.replace(",20,", ",31,").replace("BPS 2024", "Berita acara")
    path = write(tmp_path, "corrected.csv", "\n".join([HEADER, GOOD_ELIGIBLE, corrected]))
    result = import_file(registration, path)
    assert result.returncode == 0, result
    assert "2 rows: 1 recorded, 1 already recorded, 0 refused" in flat(result.stdout)
    with proxy(registration) as service:
        village = service.get_village("52.01.08.2004")
        assert village["indicators"]["voter_turnout"]["value"] == "31.00"
        assert village["status"] == "incomplete"


def test_re_running_a_file_whose_village_is_on_lines_far_apart_records_nothing(
        registration, tmp_path):
    # BUG: the file went to the service in calls of 2000 rows, so line 2 and line 2003 of
    # one village were in different calls; line 2, recorded before and no longer the
    # village's value, was recorded again on every re-run, and line 2003 after it
    others = [c for c in regions.all_village_codes() if c != "52.01.08.2001"][:CHUNK]
    text = "\n".join(["code,source_document,observed_on,poverty_rate",
                      "52.01.08.2001,BPS 2024,2024-01-01,30",
                      *(f"{code},BPS 2024,2024-01-01,40" for code in others),
                      "52.01.08.2001,Survei desa 2024,2024-03-01,31"]) + "\n"
    path = write(tmp_path, "far-apart.csv", text)
    first = import_file(registration, path)
    assert first.returncode == 0, first
    assert f"{CHUNK + 2} rows: {CHUNK + 2} recorded" in flat(first.stdout)
    head = ledger_head(registration)
    again = import_file(registration, path)
    assert again.returncode == 0, again
    assert f"{CHUNK + 2} rows: 0 recorded, {CHUNK + 2} already recorded" in flat(again.stdout)
    assert ledger_head(registration) == head
    with proxy(registration) as service:
        poverty = service.get_village("52.01.08.2001")["indicators"]["poverty_rate"]
        assert (poverty["value"], poverty["source_document"]) == ("31.00", "Survei desa 2024")


def test_an_import_stopped_half_way_says_what_was_sent_and_a_re_run_completes_it(
        registration, tmp_path):
    # BUG: Ctrl-C after the first calls said only "interrupted (Ctrl-C) before the
    # command finished": not that rows were recorded, nor that running it again is safe
    codes = regions.all_village_codes()[:3 * CHUNK]
    text = "\n".join(["code,source_document,observed_on,poverty_rate",
                      *(f"{code},BPS 2024,2024-01-01,30" for code in codes)]) + "\n"
    path = write(tmp_path, "big.csv", text)
    env = {**os.environ, "AMQP_URI": registration["AMQP_URI"], "PLPBK_NO_PROGRESS": "1"}
    command = subprocess.Popen([PLPBK, "import", "villages", str(path)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with proxy(registration) as service:
        for _ in range(600):   # until the first call has recorded its rows
            if service.list_villages({"region": ""})["total"] >= CHUNK:
                break
            time.sleep(0.1)
    command.send_signal(signal.SIGINT)
    out, err = command.communicate(timeout=120)
    assert command.returncode == 130, (out, err)
    said = " ".join(err.split())
    sent = re.search(r"big.csv: (\d+) of 6000 rows were sent before it stopped \((\d+) "
                     r"recorded, 0 already recorded, 0 refused\); the service may have "
                     r"recorded some of the rest: importing the file again is safe \(what "
                     r"is recorded is not recorded twice\) and completes it", said)
    assert sent and int(sent.group(1)) >= CHUNK, said
    assert "interrupted (Ctrl-C)" in said

    again = import_file(registration, path)
    assert again.returncode == 0, again
    recorded, unchanged = map(int, re.search(r"6000 rows: (\d+) recorded, (\d+) already "
                                             r"recorded, 0 refused", flat(again.stdout)).groups())
    assert recorded + unchanged == 6000 and unchanged >= int(sent.group(2))
    with proxy(registration) as service:
        assert service.list_villages({"region": ""})["total"] == 6000


def test_line_numbers_count_physical_lines_of_the_file(registration, tmp_path):
    # a quoted cell over two lines, a blank line and a byte-order mark
    text = "\ufeff" + "\n".join([
        HEADER,
        '52.01.08.2001,"BPS Lombok Barat\n2024",2024-01-01,30,,,,,,,',   # lines 2-3
        "",                                                                  # line 4
        "52.01.08.2002,BPS 2024,2024-01-01,130,,,,,,,"]) + "\n"             # line 5
    result = import_file(registration, write(tmp_path, "lines.csv", text))
    assert result.returncode == 1, result
    assert "2 rows: 1 recorded, 0 already recorded, 1 refused" in flat(result.stdout)
    assert list(report_lines(result.stdout)) == [5]


def test_a_row_with_more_or_fewer_cells_than_the_header_is_named_and_not_recorded(
        registration, tmp_path):
    text = "\n".join([
        HEADER,
        GOOD_ELIGIBLE,
        "52.01.08.2002,BPS, Lombok 2024,2024-01-01,30,,,,,,,",   # unquoted comma: 12 cells
        "52.01.08.2003,BPS 2024,2024-01-01"]) + "\n"             # 3 cells of 11
    result = import_file(registration, write(tmp_path, "shifted.csv", text))
    assert result.returncode == 1, result
    assert_no_traceback(result)
    assert "3 rows: 1 recorded, 0 already recorded, 2 refused" in flat(result.stdout)
    reasons = report_lines(result.stdout)
    assert "12 cells where the header has 11 columns" in reasons[3]
    assert "fewer cells than the header's 11 columns" in reasons[4]
    with proxy(registration) as service:
        for code in ["52.01.08.2002", "52.01.08.2003"]:
            with pytest.raises(NotFound):
                service.get_village(code)


def test_show_errors_limits_the_listing_not_the_count(registration, tmp_path):
    result = import_file(registration, write(tmp_path, "mixed.csv", MIXED), "--show-errors", "2")
    assert result.returncode == 1
    assert "6 refused" in flat(result.stdout)
    assert sorted(report_lines(result.stdout)) == [3, 4]


def test_a_header_only_file_records_nothing_and_succeeds(registration, tmp_path):
    result = import_file(registration, write(tmp_path, "empty.csv", HEADER + "\n"))
    assert result.returncode == 0, result
    assert "0 rows: 0 recorded" in flat(result.stdout)


def test_an_actor_who_may_not_import_is_refused_clearly(registration, tmp_path):
    path = write(tmp_path, "good.csv", "\n".join([HEADER, GOOD_ELIGIBLE]))
    result = import_file(registration, path, "--role", "auditor")
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "role auditor may not import villages" in flat(result.stderr)
    with proxy(registration) as service, pytest.raises(NotFound):
        service.get_village("52.01.08.2001")


def test_a_code_cell_that_is_not_exactly_a_code_is_refused_naming_line_and_column(
        registration, tmp_path):
    # a space or a line break around a code is bad input, never trimmed into a code
    text = "\n".join([
        HEADER,
        "52.01.08.2001 ,BPS 2024,2024-01-01,30,,,,,,,",        # line 2
        '" 52.01.08.2002",BPS 2024,2024-01-01,30,,,,,,,',      # line 3
        '"52.01.08.2003\n",BPS 2024,2024-01-01,30,,,,,,,',     # lines 4-5: named by 4
        "\t52.01.08.2005,BPS 2024,2024-01-01,30,,,,,,,"]) + "\n"   # line 6
    result = import_file(registration, write(tmp_path, "padded.csv", text))
    assert result.returncode == 1, result
    assert_no_traceback(result)
    assert "4 rows: 0 recorded, 0 already recorded, 4 refused" in flat(result.stdout)
    assert report_lines(result.stdout) == {
        line: "code: must be a Kemendagri village code PP.KK.CC.DDDD" for line in (2, 3, 4, 6)}
    with proxy(registration) as service:
        assert service.list_villages({"region": "52"})["total"] == 0
        for code in ["52.01.08.2001", "52.01.08.2002", "52.01.08.2003", "52.01.08.2005"]:
            with pytest.raises(NotFound):
                service.get_village(code)


def test_a_district_imports_only_villages_in_its_region(registration, tmp_path):
    # BUG: import_rows authorizes the role only (code=None) and never checks each row's
    # code against the actor's region, so a district official of Lombok Barat (52.01)
    # registers and records evidence for a Jakarta village (31.71), which
    # register_village and record_indicators refuse ("outside your region").
    jakarta = "31.71.01.1001,BPS DKI 2024,2024-01-01,30,,,,,,,"
    path = write(tmp_path, "two-regions.csv", "\n".join([HEADER, GOOD_ELIGIBLE, jakarta]))
    result = import_file(registration, path, "--actor", "dinas-1", "--role", "district",
                         "--region", "52.01")
    assert_no_traceback(result)
    with proxy(registration) as service:
        with pytest.raises(NotFound):
            service.get_village("31.71.01.1001")
    assert result.returncode == 1, result
    assert "outside your region" in report_lines(result.stdout)[3]


# -- unusable files ------------------------------------------------------------------------------

@pytest.mark.parametrize("header, message", [
    ("code,observed_on,poverty_rate", "missing column(s) source_document"),
    ("code,source_document,poverty_rate", "missing column(s) observed_on"),
    ("kode,source_document,observed_on", "missing column(s) code"),
    ("code,source_document,observed_on,catatan", "unknown column(s) catatan"),
    (HEADER + ",poverty", "unknown column(s) poverty"),
    ("", "the file is empty (no header line; the columns are code, source_document"),
])
def test_a_file_with_a_missing_or_unknown_column_records_nothing(registration, tmp_path,
                                                                 header, message):
    head = ledger_head(registration)
    rows = [header, "52.01.08.2001,BPS 2024,2024-01-01,30"] if header else []
    path = write(tmp_path, "columns.csv", "\n".join(rows))
    result = import_file(registration, path)
    assert result.returncode == 2, result
    assert_no_traceback(result)
    assert "error:" in result.stderr and message in flat(result.stderr)
    assert "columns.csv:" in flat(result.stderr)
    if "unknown" in message:
        assert "known: code, source_document, observed_on" in flat(result.stderr)
    assert ledger_head(registration) == head
    with proxy(registration) as service, pytest.raises(NotFound):
        service.get_village("52.01.08.2001")


def test_an_indonesian_excel_export_is_imported(registration, tmp_path):
    # BUG: Excel in Indonesian settings saves "CSV" with a byte-order mark, CRLF, ';'
    # between cells and decimal commas; the file was refused as a whole
    text = ("\ufeffCode;Source_Document;Observed_On;Poverty_Rate;Slum_Area;Slum_Hectares;"
            "Voter_Turnout\r\n"
            '52.01.08.2001;"BPS; Lombok Barat";2024-01-01;30,5;ya;4,25;35\r\n')
    path = tmp_path / "ekspor.csv"
    path.write_bytes(text.encode("utf-8"))
    result = import_file(registration, path)
    assert result.returncode == 0, result
    assert_no_traceback(result)
    assert "1 rows: 1 recorded, 0 already recorded, 0 refused" in flat(result.stdout)
    with proxy(registration) as service:
        recorded = service.get_village("52.01.08.2001")["indicators"]
        assert recorded["poverty_rate"]["value"] == "30.50"
        assert recorded["poverty_rate"]["source_document"] == "BPS; Lombok Barat"
        assert recorded["slum_area"]["value"] == {"present": True, "hectares": "4.25"}
        assert recorded["voter_turnout"]["value"] == "35.00"


@pytest.mark.parametrize("column", ["catatan[draft]", "catatan[/]"])
def test_an_unknown_column_is_named_exactly_as_written(registration, tmp_path, column):
    # BUG: shared/cli/common.py fail() prints the message as rich markup, so a column
    # (or path) with brackets is mangled ("catatan[draft]" -> "catatan") or crashes the
    # command with a MarkupError traceback ("catatan[/]").
    path = write(tmp_path, "brackets.csv", f"code,source_document,observed_on,{column}\n")
    result = import_file(registration, path)
    assert_no_traceback(result)
    assert result.returncode == 2, result
    assert f"unknown column(s) {column}" in flat(result.stderr)


def test_a_file_that_is_not_utf8_is_refused_clearly(registration, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n52.01.08.2001,Badan Pusat Statistik \xe9,2024-01-01"
                      ",30,,,,,,,\n").encode("latin-1"))
    result = import_file(registration, path)
    assert result.returncode == 2, result
    assert_no_traceback(result)
    assert "not a readable UTF-8 CSV file" in flat(result.stderr)


def test_a_missing_file_is_a_clear_error(registration, tmp_path):
    result = import_file(registration, tmp_path / "nowhere.csv")
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "nowhere.csv" in result.stderr and "does not exist" in result.stderr


def test_help(platform_config):
    result = plpbk(platform_config, "import", "villages", "--help")
    assert result.returncode == 0, result
    assert result.stdout.startswith("Usage: plpbk import villages [OPTIONS] PATH")
    text = flat(result.stdout)
    for word in ["CSV", "code, source_document, observed_on", "--show-errors", "--amqp",
                 "--actor", "--role", "--region", "Exit code 1"]:
        assert word in text, word
    assert "villages" in flat(plpbk(platform_config, "import", "--help").stdout)


# -- the service is not running ------------------------------------------------------------------

def test_the_service_not_running_is_a_clear_error_with_exit_code_3(platform_config, tmp_path):
    path = write(tmp_path, "good.csv", "\n".join([HEADER, GOOD_ELIGIBLE]))
    result = import_file(platform_config, path)
    assert result.returncode == 3, result
    assert_no_traceback(result)
    assert "the registration service is not running" in flat(result.stderr)
    assert "recorded" not in result.stdout


def test_rabbitmq_unreachable_is_a_clear_error_with_exit_code_3(platform_config, tmp_path):
    path = write(tmp_path, "good.csv", "\n".join([HEADER, GOOD_ELIGIBLE]))
    unreachable = {**platform_config, "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:1/"}
    result = import_file(unreachable, path)
    assert result.returncode == 3, result
    assert_no_traceback(result)
    assert "cannot reach RabbitMQ" in flat(result.stderr)


# -- numbers in cells ----------------------------------------------------------------------------

KOTAKU_HEADER = HEADER + "," + ",".join(f"kotaku_{name}" for name in rules.KOTAKU_SUBCRITERIA)


def kotaku_row(code, misuse="0", genangan="5"):
    """A row with a KOTAKU score: 15 sub-criteria at 3, kotaku_genangan as given."""
    scores = ["3"] * len(rules.KOTAKU_SUBCRITERIA)
    scores[rules.KOTAKU_SUBCRITERIA.index("genangan")] = genangan
    return ",".join([code, "BPS 2024", "2024-01-01", "30", "", "", "", "", misuse, "", "",
                     *(f'"{s}"' for s in scores)])


def test_a_number_cell_in_other_digits_or_with_a_sign_or_space_is_refused_by_line_and_column(
        registration, tmp_path):
    # int() reads '٥' (Arabic-Indic), '５' (full-width), '+5' and ' 5' as 5: each row
    # would have been recorded with a score or count its cell does not plainly say
    text = "\n".join([
        KOTAKU_HEADER,
        kotaku_row("52.01.08.2001"),                     # line 2: good
        kotaku_row("52.01.08.2002", genangan="٥"),       # line 3
        kotaku_row("52.01.08.2003", genangan="+5"),      # line 4
        kotaku_row("52.01.08.2004", genangan=" 5"),      # line 5
        kotaku_row("52.01.08.2005", misuse="٠"),         # line 6
        kotaku_row("52.01.08.2006", misuse="０ "),       # line 7
    ]) + "\n"
    result = import_file(registration, write(tmp_path, "digits.csv", text))
    assert result.returncode == 1, result
    assert_no_traceback(result)
    assert "6 rows: 1 recorded, 0 already recorded, 5 refused" in flat(result.stdout)
    plain = ("must be a whole number written with the digits 0-9 only (no spaces, plus sign, "
             "separators or other scripts' digits)")
    assert report_lines(result.stdout) == {
        3: f"kotaku_genangan: {plain}", 4: f"kotaku_genangan: {plain}",
        5: f"kotaku_genangan: {plain}", 6: f"fund_misuse_cases: {plain}",
        7: f"fund_misuse_cases: {plain}"}
    with proxy(registration) as service:
        recorded = service.get_village("52.01.08.2001")["indicators"]
        assert recorded["kotaku_slum_score"]["value"]["total"] == 3 * 15 + 5
        assert recorded["fund_misuse_cases"]["value"] == 0
        assert service.list_villages({"region": "52"})["total"] == 1
        for code in ["52.01.08.2002", "52.01.08.2003", "52.01.08.2004", "52.01.08.2005",
                     "52.01.08.2006"]:
            with pytest.raises(NotFound):
                service.get_village(code)
