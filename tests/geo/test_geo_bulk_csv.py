import csv

import pytest

from geo import coords
from geo.bulk_csv import CsvLocateSummary, locate_csv
from geo.errors import CsvInputError
from geo.index import GridIndex

ADDED = ["wgs84_lon", "wgs84_lat", "grid_code", "community_code", "town_code", "status"]


@pytest.fixture
def index(block):
    return GridIndex(block)


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_locates_every_row_in_its_own_crs(tmp_path, index):
    gcj = coords.wgs84_to_gcj02(114.315, 30.605)  # a WeChat-style point in grid 002
    bd = coords.wgs84_to_bd09(114.305, 30.615)  # a Baidu point in grid 003
    source = tmp_path / "in.csv"
    write_csv(
        source,
        [
            ["id", "lon", "lat", "crs", "note"],
            ["007", "114.305", "30.605", "wgs84", "leading zeros kept"],
            ["008", repr(gcj[0]), repr(gcj[1]), "GCJ02", ""],
            ["009", repr(bd[0]), repr(bd[1]), "bd09", "中文"],
            ["010", "114.315", "30.615", "", "empty crs is wgs84"],
            ["011", "116.4", "39.9", "wgs84", "Beijing"],
        ],
    )
    out = tmp_path / "out.csv"
    progress = []
    summary = locate_csv(
        index, source, out, progress=lambda done, total: progress.append((done, total))
    )

    rows = read_csv(out)
    assert list(rows[0]) == ["id", "lon", "lat", "crs", "note", *ADDED]
    assert [r["id"] for r in rows] == ["007", "008", "009", "010", "011"]
    assert [r["note"] for r in rows] == [
        "leading zeros kept",
        "",
        "中文",
        "empty crs is wgs84",
        "Beijing",
    ]
    assert [r["grid_code"] for r in rows] == [
        "420102001001001",
        "420102001001002",
        "420102001002003",
        "420102001002004",
        "",
    ]
    assert [r["status"] for r in rows] == ["inside", "inside", "inside", "inside", "outside"]
    assert rows[1]["community_code"] == "420102001001" and rows[1]["town_code"] == "420102001"
    # The converted coordinates are the WGS84 point the GCJ-02/BD-09 ones came from.
    assert (float(rows[1]["wgs84_lon"]), float(rows[1]["wgs84_lat"])) == pytest.approx(
        (114.315, 30.605), abs=2e-7
    )
    assert (float(rows[2]["wgs84_lon"]), float(rows[2]["wgs84_lat"])) == pytest.approx(
        (114.305, 30.615), abs=2e-7
    )
    assert rows[0]["lon"] == "114.305"  # input columns are written back as they came
    assert summary == CsvLocateSummary(rows=5, inside=4, tolerance=0, outside=1)
    size = source.stat().st_size
    assert progress[0] == (0, size) and progress[-1] == (size, size)


def test_chunks_give_the_same_file_as_one_pass(tmp_path, index):
    source = tmp_path / "in.csv"
    write_csv(
        source, [["lon", "lat"]] + [[f"{114.301 + i * 0.0019:.4f}", "30.605"] for i in range(10)]
    )
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    progress = []
    locate_csv(index, source, whole)
    locate_csv(index, source, chunked, lambda d, t: progress.append((d, t)), block_bytes=40)
    assert chunked.read_text() == whole.read_text()
    size = source.stat().st_size
    assert len(progress) > 3 and progress[0] == (0, size) and progress[-1] == (size, size)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    rows = read_csv(whole)
    assert list(rows[0]) == ["lon", "lat", *ADDED]
    assert {r["grid_code"] for r in rows} == {"420102001001001", "420102001001002"}


def test_tolerance_rows(tmp_path, index):
    source = tmp_path / "in.csv"
    write_csv(source, [["lon", "lat"], ["114.3201", "30.605"]])  # ~10 m east of grid 002
    out = tmp_path / "out.csv"
    assert locate_csv(index, source, out).tolerance == 1
    (row,) = read_csv(out)
    assert (row["status"], row["grid_code"]) == ("tolerance", "420102001001002")


def test_header_only_file_gives_header_only_output(tmp_path, index):
    source = tmp_path / "in.csv"
    source.write_text("id,lon,lat\n")
    out = tmp_path / "out.csv"
    assert locate_csv(index, source, out).rows == 0
    assert out.read_text().strip() == ",".join(["id", "lon", "lat", *ADDED])


def assert_rejected(tmp_path, index, rows, *expected_lines):
    source = tmp_path / "in.csv"
    write_csv(source, rows)
    out = tmp_path / "out.csv"
    out.write_text("previous result\n")
    with pytest.raises(CsvInputError) as caught:
        locate_csv(index, source, out)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).splitlines() == list(expected_lines)
    assert out.read_text() == "previous result\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]  # no temp left


def test_missing_columns(tmp_path, index):
    assert_rejected(
        tmp_path,
        index,
        [["lng", "latitude"], ["114.3", "30.6"]],
        "in.csv: missing column lon and lat",
        "the columns are: lng, latitude",
    )


def test_bad_rows_are_all_named_and_nothing_is_written(tmp_path, index):
    assert_rejected(
        tmp_path,
        index,
        [
            ["lon", "lat", "crs"],
            ["114.305", "30.605", "wgs84"],
            ["abc", "30.605", ""],
            ["114.305", "NaN", ""],
            ["114.305", "95", "gcj02"],
            ["114.305", "30.605", "utm50"],
            ["", "200", ""],
        ],
        "in.csv: 5 bad rows, nothing written",
        "row 2: lon 'abc' is not a number",
        "row 3: lat is NaN",
        "row 4: lat 95.0 is outside [-90, 90]",
        "row 5: crs 'utm50' is not one of wgs84, gcj02, bd09",
        "row 6: lon is empty; lat 200.0 is outside [-90, 90]",
    )


def test_unreadable_file(tmp_path, index):
    source = tmp_path / "in.csv"
    source.write_bytes("lon,lat\n114.3,30.6\n".encode("utf-16"))
    with pytest.raises(CsvInputError, match=r"cannot read in\.csv as a UTF-8 CSV file"):
        locate_csv(index, source, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_bad_row_in_a_later_block_writes_nothing(tmp_path, index):
    rows = [["lon", "lat"]] + [["114.305", "30.605"]] * 50 + [["114.305", "x"]]
    assert_rejected(
        tmp_path,
        index,
        rows,
        "in.csv: 1 bad rows, nothing written",
        "row 51: lat 'x' is not a number",
    )
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    with pytest.raises(CsvInputError, match="row 51: lat 'x'"):
        locate_csv(index, source, out, block_bytes=64)
    assert out.read_text() == "previous result\n"


def test_text_round_trips_and_coordinates_have_seven_decimals(tmp_path, index):
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8-sig") as handle:  # Excel writes a BOM
        csv.writer(handle).writerows(
            [
                ["note", "lon", "lat", "status"],
                ['a "quoted", two-line\nnote', "+114.305", " 30.605 ", "old"],
                ["west", "-73.98765432", "-40.5", "old"],
                ["", "114.3", "30.6", "old"],
            ]
        )
    out = tmp_path / "out.csv"
    summary = locate_csv(index, source, out)
    rows = read_csv(out)
    # An existing output column is replaced where it stands; the others are appended.
    assert list(rows[0]) == ["note", "lon", "lat", "status", *ADDED[:-1]]
    assert rows[0]["note"] == 'a "quoted", two-line\nnote'
    assert [r["status"] for r in rows] == ["inside", "outside", "inside"]
    assert [(r["wgs84_lon"], r["wgs84_lat"]) for r in rows] == [
        (f"{114.305:.7f}", f"{30.605:.7f}"),
        (f"{-73.98765432:.7f}", f"{-40.5:.7f}"),
        ("114.3000000", "30.6000000"),
    ]
    assert rows[1]["grid_code"] == "" and rows[1]["town_code"] == ""
    assert summary == CsvLocateSummary(rows=3, inside=2, tolerance=0, outside=1)
