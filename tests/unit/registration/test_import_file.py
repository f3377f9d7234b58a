"""How `plpbk import villages` reads a CSV file as offices export it (Excel in English or
Indonesian, LibreOffice): what it takes, what it refuses, and the line it names."""
import pytest

from services.registration.cli import _read

HEADER = "code,source_document,observed_on,poverty_rate"


def read(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "villages.csv"
    path.write_bytes(text.encode(encoding))
    return _read(str(path))


def refused(tmp_path, text, capsys):
    with pytest.raises(SystemExit) as stop:
        read(tmp_path, text)
    assert stop.value.code == 2
    return " ".join(capsys.readouterr().err.split())


def row(line, poverty="30", code="52.01.08.2001", document="BPS 2024"):
    return {"code": code, "source_document": document, "observed_on": "2024-01-01",
            "poverty_rate": poverty, "line": line}


@pytest.mark.parametrize("text", [
    f"{HEADER}\r\n52.01.08.2001,BPS 2024,2024-01-01,30\r\n",        # Windows line ends
    f"\ufeff{HEADER}\n52.01.08.2001,BPS 2024,2024-01-01,30\n",       # Excel's byte-order mark
    f"{HEADER}\r52.01.08.2001,BPS 2024,2024-01-01,30\r",             # old Mac line ends
    f"{HEADER}\n52.01.08.2001,BPS 2024,2024-01-01,30",               # no line end at the end
])
def test_line_ends_and_a_byte_order_mark_are_read_alike(tmp_path, text):
    assert read(tmp_path, text) == ([row(2)], [])


def test_a_column_named_twice_is_refused_not_read_as_its_last_cell(tmp_path, capsys):
    # BUG: csv.DictReader kept the last of two poverty_rate cells (10) and dropped the
    # first (30) without a word
    message = refused(tmp_path, f"{HEADER},poverty_rate\n52.01.08.2001,BPS,2024-01-01,30,10\n",
                      capsys)
    assert "villages.csv: column poverty_rate is named twice in the header (columns 4 and 5)" \
        in message


def test_header_names_are_read_in_any_case_and_without_spaces_around_them(tmp_path):
    # BUG: "Code" or "code " was "missing column(s) code" (with Code in the header)
    text = "Code , Source_Document,OBSERVED_ON,Poverty_Rate\n52.01.08.2001,BPS 2024,2024-01-01,30\n"
    assert read(tmp_path, text) == ([row(2)], [])


def test_a_file_cut_by_semicolons_is_read_with_its_decimal_commas(tmp_path):
    # BUG: Excel in Indonesian (and most European) settings saves "CSV" with ';' between
    # cells and ',' in decimals; the whole file was refused, telling the officer to save
    # "with commas", which that Excel does not offer
    text = ("code;source_document;observed_on;poverty_rate\r\n"
            '52.01.08.2001;"BPS; Lombok Barat, 2024";2024-01-01;30,5\r\n'
            "52.01.08.2002;BPS 2024;2024-01-01;31\r\n")
    assert read(tmp_path, text) == ([
        row(2, poverty="30.5", document="BPS; Lombok Barat, 2024"),
        row(3, poverty="31", code="52.01.08.2002")], [])


def test_a_decimal_comma_is_read_only_in_a_semicolon_file_and_only_in_decimal_columns(
        tmp_path):
    text = ("code;source_document;observed_on;poverty_rate;fund_misuse_cases\n"
            "52.01.08.2001;BPS 1,5;2024-01-01;1.234,5;1,0\n")
    [[read_row], []] = read(tmp_path, text)
    # left as written, for the row's own check to refuse by line and column
    assert (read_row["source_document"], read_row["poverty_rate"],
            read_row["fund_misuse_cases"]) == ("BPS 1,5", "1.234,5", "1,0")
    [[read_row], []] = read(tmp_path, f"{HEADER}\n" '52.01.08.2001,BPS,2024-01-01,"30,5"\n')
    assert read_row["poverty_rate"] == "30,5"


def test_an_empty_column_with_no_name_is_ignored_a_value_in_it_refuses_its_row(tmp_path):
    # BUG: a spreadsheet's trailing empty column ("...,poverty_rate,") refused the whole
    # file as "unknown column(s) " (a name of nothing)
    text = (f"{HEADER},\n52.01.08.2001,BPS 2024,2024-01-01,30,\n"
            "52.01.08.2002,BPS 2024,2024-01-01,31,catatan\n")
    assert read(tmp_path, text) == ([row(2)], [{"line": 3, "reason": (
        "a value in column 5, which has no name in the header: name the column or "
        "empty the cell")}])


def test_rows_of_empty_cells_are_skipped_like_blank_lines(tmp_path):
    # BUG: a spreadsheet's formatted but empty rows (",,,") were refused one by one
    # ("code: Missing data for required field"), exit 1 for a good file
    text = f"{HEADER}\n52.01.08.2001,BPS 2024,2024-01-01,30\n,,,\n\n , ,,\n"
    assert read(tmp_path, text) == ([row(2)], [])


def test_a_row_over_several_lines_is_named_by_its_first_line(tmp_path):
    # BUG: a row whose quoted cell holds a line break was named by its last line (3),
    # where an editor shows the middle of a cell and a spreadsheet the next row
    text = (f"{HEADER}\n" '52.01.08.2001,"BPS\nLombok Barat",2024-01-01,30\n'
            "\n52.01.08.2002,BPS 2024,2024-01-01,30,extra\n")
    assert read(tmp_path, text) == ([row(2, document="BPS\nLombok Barat")], [{
        "line": 5, "reason": "5 cells where the header has 4 columns (quote values "
                             "that contain a comma)"}])


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n"])
def test_a_file_with_no_header_is_refused_as_empty(tmp_path, capsys, text):
    # it was "missing column(s) code, source_document, observed_on", as if a header
    # were there with other columns
    assert "villages.csv: the file is empty (no header line; the columns are code, " \
        "source_document, observed_on and any of poverty_rate," in refused(tmp_path, text,
                                                                         capsys)


def test_a_header_only_file_has_no_rows(tmp_path):
    assert read(tmp_path, HEADER + "\r\n") == ([], [])


def test_a_quote_never_closed_stops_the_import_naming_its_line(tmp_path, capsys):
    # BUG: the rest of the file became one cell of line 2: lines 3 and 4 vanished from
    # the import and from its count ("1 rows: ... 1 refused")
    text = (f"{HEADER}\n" '52.01.08.2001,"BPS 2024,2024-01-01,30\n'
            "52.01.08.2002,BPS 2024,2024-01-01,30\n52.01.08.2003,BPS 2024,2024-01-01,30\n")
    message = refused(tmp_path, text, capsys)
    assert "villages.csv: line 2: a quote opened there is never closed" in message


def test_a_quote_not_doubled_inside_a_quoted_cell_stops_the_import(tmp_path, capsys):
    # BUG: '"BPS "Lombok" 2024"' was read as 'BPS Lombok" 2024"' and recorded so
    text = (f"{HEADER}\n52.01.08.2001,BPS 2024,2024-01-01,30\n"
            '52.01.08.2002,"BPS "Lombok" 2024",2024-01-01,30\n')
    message = refused(tmp_path, text, capsys)
    assert ('villages.csv: line 3: a quote inside a quoted cell must be doubled ("")'
            in message)


def test_a_stray_quote_that_swallows_the_next_row_refuses_both_not_records_one(tmp_path):
    # BUG: a stray quote in line 2 closed in line 3, so village 52.01.08.2001 was
    # recorded with line 3 in its source_document and village 52.01.08.2002 was lost
    text = (f"{HEADER}\n" '52.01.08.2001,"BPS 2024,2024-01-01,30\n'
            '52.01.08.2002,BPS",2024-01-01,30\n52.01.08.2003,BPS 2024,2024-01-01,30\n')
    assert read(tmp_path, text) == ([row(4, code="52.01.08.2003")], [{"line": 2, "reason": (
        "a quoted cell runs on from line 2 to line 3 and holds what looks like another "
        "row (52.01.08.2002,...): close the quote opened on line 2, or double a quote "
        "meant as text")}])


def test_a_quoted_cell_may_hold_line_breaks_and_quotes(tmp_path):
    text = (f"{HEADER}\n" '52.01.08.2001,"BPS ""Lombok Barat""\n2024, hal. 3",2024-01-01,30\n')
    assert read(tmp_path, text) == ([row(2, document='BPS "Lombok Barat"\n2024, hal. 3')], [])


def test_a_file_saved_in_windows_ansi_is_refused_naming_the_line_and_how_to_save_it(
        tmp_path, capsys):
    # Excel's plain "CSV (Comma delimited)" writes Windows-1252, not UTF-8. The refusal
    # named a byte offset ("position 101"), not the line, nor how to save the file (a
    # byte-order mark in front, as a hand-fixed file may keep, shifts no line)
    path = tmp_path / "villages.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\n52.01.08.2001,BPS 2024,2024-01-01,30\n"
                     "52.01.08.2002,BPS \u2013 Lombok,2024-01-01,30\n".encode("cp1252"))
    with pytest.raises(SystemExit) as stop:
        _read(str(path))
    assert stop.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert "villages.csv: not a readable UTF-8 CSV file: line 3 holds a byte (0x96) UTF-8 " \
        "does not have; save it from Excel as \"CSV UTF-8 (Comma delimited)\"" in message


def test_a_quote_never_closed_in_a_big_file_is_named_as_such(tmp_path, capsys):
    # in a file of thousands of rows the open cell outgrows the csv module's limit first
    rows = "".join(f"52.01.08.{2001 + n % 9},BPS 2024,2024-01-01,30\n" for n in range(5000))
    text = f"{HEADER}\n" '52.01.08.2001,"BPS 2024,2024-01-01,30\n' + rows
    message = refused(tmp_path, text, capsys)
    assert "villages.csv: line 2: a quote opened there is never closed" in message
