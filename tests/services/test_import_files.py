"""Reading import files: records out with where they came from, or one clear error."""
import json

import pytest

from emdesk.services.import_files import ImportFileError, read_import_bytes, read_import_file

RECORD = {"reference": "R1", "subject": {"given_name": "Ann"}, "order": {"start": "2026-12-01"}}


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize("content", [
    json.dumps([RECORD, RECORD]),
    json.dumps({"orders": [RECORD, RECORD]}),
])
def test_json_list_or_orders_object(tmp_path, content):
    got = read_import_file(write(tmp_path, "orders.json", content))
    assert got == [("orders.json[0]", RECORD), ("orders.json[1]", RECORD)]


def test_a_json_entry_that_is_not_an_object_is_passed_on_for_the_parser_to_report(tmp_path):
    got = read_import_file(write(tmp_path, "orders.json", json.dumps([RECORD, "oops"])))
    assert got[1] == ("orders.json[1]", "oops")


@pytest.mark.parametrize(("content", "where"), [
    ('[\n  {"reference": "R1",\n   "subject": {}\n   "order": {}}\n]', "line 4, column 4"),
    ('[{"reference": "R1"}', "line 1, column 21"),
])
def test_malformed_json_names_line_and_column(tmp_path, content, where):
    with pytest.raises(ImportFileError) as err:
        read_import_file(write(tmp_path, "orders.json", content))
    assert str(err.value).startswith(f"orders.json: {where}: not valid JSON")
    assert "fix the file there" in str(err.value)


@pytest.mark.parametrize("content", [json.dumps({"records": []}), json.dumps(42)])
def test_json_of_the_wrong_shape(tmp_path, content):
    with pytest.raises(ImportFileError, match=r'orders.json: .*list of orders or \{"orders": \[...\]\}'):
        read_import_file(write(tmp_path, "orders.json", content))


CSV = (
    "reference,subject.given_name,subject.addresses[0].postcode,order.conditions.curfew,order.conditions.zones\n"
    'R1,Ann,LS1 1AB,Mon-Fri 19:00-07:00,"[{""name"": ""Park, north"", ""kind"": ""exclusion""}]"\n'
    "\n"
    'R2,"Bo\nb",CF10 1EP,,\n'
    "R3,Cy,,,\n"
)


def test_csv_rows_with_their_line_numbers(tmp_path):
    got = read_import_file(write(tmp_path, "orders.csv", CSV))
    assert [where for where, _ in got] == ["orders.csv line 2", "orders.csv line 4", "orders.csv line 6"]
    first = got[0][1]
    assert first["subject"] == {"given_name": "Ann", "addresses": [{"postcode": "LS1 1AB"}]}
    assert first["order"]["conditions"]["curfew"] == {"windows": "Mon-Fri 19:00-07:00"}
    assert json.loads(first["order"]["conditions"]["zones"])[0]["name"] == "Park, north"
    assert got[1][1]["subject"]["given_name"] == "Bo\nb"


def test_csv_from_a_spreadsheet_with_a_byte_order_mark(tmp_path):
    got = read_import_file(write(tmp_path, "orders.csv", "\ufeff" + CSV))
    assert got[0][1]["reference"] == "R1"


def test_a_row_with_too_many_values(tmp_path):
    content = "reference,subject.given_name\nR1,Ann\nR2,Smith, John\n"
    with pytest.raises(ImportFileError, match=r"orders.csv: line 3, column 3: the row has 3 values but the header has 2"):
        read_import_file(write(tmp_path, "orders.csv", content))


def test_a_broken_quote(tmp_path):
    content = 'reference,subject.given_name\nR1,"Ann\n'
    with pytest.raises(ImportFileError, match=r"orders.csv: line 2: cannot be read .*double quotes"):
        read_import_file(write(tmp_path, "orders.csv", content))


def test_a_csv_without_a_header_row(tmp_path):
    with pytest.raises(ImportFileError, match=r"orders.csv: line 1: the first row must name the columns"):
        read_import_file(write(tmp_path, "orders.csv", "R1,Ann,LS1 1AB\n"))


def test_text_that_is_not_utf8(tmp_path):
    content = "reference,subject.given_name\nR1,Zo\xeb\n".encode("latin-1")
    with pytest.raises(ImportFileError, match=r"orders.csv: line 2, column 6: not UTF-8 .*CSV UTF-8"):
        read_import_file(write(tmp_path, "orders.csv", content))


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_an_empty_file(tmp_path, content):
    with pytest.raises(ImportFileError, match="orders.json: the file is empty"):
        read_import_file(write(tmp_path, "orders.json", content))


def test_a_missing_file(tmp_path):
    with pytest.raises(ImportFileError, match="nowhere.json: cannot be opened"):
        read_import_file(tmp_path / "nowhere.json")


@pytest.mark.parametrize(("name", "content", "first"), [
    ("orders.txt", json.dumps([RECORD]), "orders.txt[0]"),
    ("download", "reference,subject.given_name\nR1,Ann\n", "download line 2"),
    ("ORDERS.JSON", json.dumps([RECORD]), "ORDERS.JSON[0]"),
])
def test_the_kind_is_sniffed_when_the_name_does_not_say(name, content, first):
    assert read_import_bytes(content.encode(), name)[0][0] == first


def test_a_semicolon_separated_csv_from_a_european_spreadsheet_is_read(tmp_path):
    content = "reference;subject.given_name;order.conditions.curfew\nR1;Ann;Mon-Fri 19:00-07:00\nR2;\"Bo; b\";\n"
    got = read_import_file(write(tmp_path, "orders.csv", content))
    assert [r["reference"] for _, r in got] == ["R1", "R2"]
    assert got[1][1]["subject"]["given_name"] == "Bo; b"


def test_a_large_file_is_read_as_a_stream_in_bounded_memory(tmp_path):
    import tracemalloc
    from emdesk.services.import_files import iter_import_file
    path = tmp_path / "big.json"
    with path.open("w") as f:
        f.write("[")
        for i in range(40_000):
            f.write(("," if i else "") + json.dumps({**RECORD, "reference": f"R{i}", "pad": "x" * 400}))
        f.write("]")
    assert path.stat().st_size > 20_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_import_file(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert peak < 5_000_000, f"peak {peak} bytes for a {path.stat().st_size} byte file"
