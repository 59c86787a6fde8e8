"""Locating every row of a CSV of points in one streaming pass, all or nothing.

The file is read and written in blocks by Arrow's CSV reader and writer (C++, no Python object
per row or per value); each block is checked, located and written before the next is read, so
memory stays bounded whatever the file's size. A bad row anywhere stops the writing, the rest
of the file is still checked so that every bad row is named, and the output is not touched.
"""

import csv
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo.coords import CRS_NAMES, lonlat_problems, to_wgs84
from geo.errors import CsvInputError
from geo.index import STATUSES, GridIndex

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[int, int], None]
OUTPUT_COLUMNS = ("wgs84_lon", "wgs84_lat", "grid_code", "community_code", "town_code", "status")
BLOCK_BYTES = 1 << 22
_DECIMALS = 7  # about a centimetre
_SPECIAL_BYTES = np.frombuffer(b'",\r\n', dtype=np.uint8)  # what makes a CSV value need quotes


@dataclass(frozen=True)
class CsvLocateSummary:
    rows: int
    inside: int
    tolerance: int
    outside: int


def locate_csv(
    index: GridIndex,
    in_path: str | Path,
    out_path: str | Path,
    progress: Progress | None = None,
    *,
    block_bytes: int = BLOCK_BYTES,
) -> CsvLocateSummary:
    """Locate each row of in_path (columns lon, lat and optionally crs) and write out_path.

    The output has every input column, unchanged, plus OUTPUT_COLUMNS (existing columns of those
    names are replaced in place); coordinates are written with 7 decimals. crs is wgs84, gcj02
    or bd09 per row; empty or absent means wgs84. On any bad row CsvInputError names every bad
    row (data rows are numbered from 1, the header not counted) and out_path is not touched.
    progress, when given, is called with (bytes read, file size) as the file is read.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    header = _header(in_path)
    size = in_path.stat().st_size
    if progress:
        progress(0, size)
    codes = _CodeTables(index)
    counts = np.zeros(len(STATUSES), dtype=np.int64)
    problems: list[str] = []
    rows = 0
    temp_path = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        with pa.OSFile(str(in_path)) as source, temp_path.open("xb") as out:
            out.write(_header_line(_output_columns(header)))
            for batch in _batches(source, header, block_bytes, in_path.name):
                parsed = _parse(batch, first_row=rows + 1)
                rows += batch.num_rows
                if isinstance(parsed, list):
                    problems += parsed
                elif not problems:
                    columns, status = _located_columns(index, codes, batch, *parsed)
                    counts += np.bincount(status, minlength=len(STATUSES))
                    out.write(_csv_lines(columns))
                if progress:
                    progress(min(source.tell(), size), size)
        if problems:
            raise CsvInputError(
                f"{in_path.name}: {len(problems)} bad rows, nothing written", problems
            )
        temp_path.replace(out_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    if progress:
        progress(size, size)
    return CsvLocateSummary(rows, *(int(n) for n in counts))


class _CodeTables:
    """The index's codes as Arrow arrays, so a block's codes are one `take` each."""

    def __init__(self, index: GridIndex) -> None:
        self.grid = _text_array(index.grid_codes)
        self.community = _text_array(index.community_codes)
        self.town = _text_array(index.town_codes)
        self.status = _text_array(STATUSES)


def _unreadable(name: str, exc: Exception) -> CsvInputError:
    return CsvInputError(f"cannot read {name} as a UTF-8 CSV file", [str(exc)])


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(path.name, exc) from exc
    if not header:
        raise _unreadable(path.name, ValueError("the file is empty"))
    missing = [name for name in ("lon", "lat") if name not in header]
    if missing:
        raise CsvInputError(
            f"{path.name}: missing column {' and '.join(missing)}",
            [f"the columns are: {', '.join(header)}"],
        )
    return header


def _batches(source: pa.NativeFile, header: list[str], block_bytes: int, name: str):
    """The rows after the header as record batches of strings, exactly as written."""
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(
            column_names=header, skip_rows=1, block_size=block_bytes, use_threads=True
        ),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={column: pa.string() for column in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    try:
        yield from reader
    except pa.ArrowInvalid as exc:
        raise _unreadable(name, exc) from exc


Coordinates = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], pa.Array | None]


def _parse(batch: pa.RecordBatch, first_row: int) -> Coordinates | list[str]:
    """lon, lat and the lower-cased crs of a block, or the problems of its bad rows."""
    crs = None
    if "crs" in batch.schema.names:
        crs = pc.utf8_lower(pc.utf8_trim_whitespace(batch.column("crs")))
    try:
        lon = _numbers(batch.column("lon"))
        lat = _numbers(batch.column("lat"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _slow_parse(batch, first_row)
    valid = (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)  # also false for NaN
    if crs is not None:
        valid &= _to_numpy(pc.is_in(crs, value_set=_text_array(["", *CRS_NAMES])))
    if not valid.all():
        return _slow_parse(batch, first_row)
    return lon, lat, crs


def _numbers(column: pa.Array) -> npt.NDArray[np.float64]:
    return _to_numpy(pc.cast(pc.utf8_trim_whitespace(column), pa.float64()))


def _slow_parse(batch: pa.RecordBatch, first_row: int) -> Coordinates | list[str]:
    """The block as pandas parses numbers: the problems, row by row, or the numbers Arrow's
    stricter parser refused (a leading '+', for one)."""
    import pandas as pd  # only for files with bad rows: it takes a while to import

    columns = [name for name in ("lon", "lat", "crs") if name in batch.schema.names]
    frame = batch.select(columns).to_pandas()
    problems = _chunk_problems(frame, first_row)
    if problems:
        return problems
    lon = pd.to_numeric(frame["lon"].str.strip()).to_numpy(dtype=np.float64)
    lat = pd.to_numeric(frame["lat"].str.strip()).to_numpy(dtype=np.float64)
    crs = pc.utf8_lower(pc.utf8_trim_whitespace(batch.column("crs"))) if "crs" in frame else None
    return lon, lat, crs


def _chunk_problems(chunk: "pd.DataFrame", first_row: int) -> list[str]:
    import pandas as pd

    messages: dict[int, list[str]] = {}
    numbers = {}
    for name in ("lon", "lat"):
        text = chunk[name].str.strip()
        number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        empty = (text == "").to_numpy()
        nan_text = text.str.lower().isin(["nan", "-nan", "+nan"]).to_numpy()
        not_number = np.isnan(number) & ~empty & ~nan_text
        for i in np.flatnonzero(empty):
            messages.setdefault(int(i), []).append(f"{name} is empty")
        for i in np.flatnonzero(not_number):
            messages.setdefault(int(i), []).append(f"{name} {text.iloc[i]!r} is not a number")
        numbers[name] = np.where(empty | not_number, 0.0, number)  # already reported
    for i, text in lonlat_problems(numbers["lon"], numbers["lat"]):
        messages.setdefault(i, []).append(text)
    if "crs" in chunk:
        crs = chunk["crs"].str.strip().str.lower()
        for i in np.flatnonzero(~(crs.isin(CRS_NAMES) | (crs == "")).to_numpy()):
            messages.setdefault(int(i), []).append(
                f"crs {chunk['crs'].iloc[i]!r} is not one of {', '.join(CRS_NAMES)}"
            )
    return [f"row {first_row + i}: {'; '.join(messages[i])}" for i in sorted(messages)]


def _located_columns(
    index: GridIndex,
    codes: _CodeTables,
    batch: pa.RecordBatch,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    crs: pa.Array | None,
) -> tuple[list[pa.Array], npt.NDArray[np.int8]]:
    """The block's output columns, and each row's status (index into STATUSES)."""
    wgs_lon, wgs_lat = lon.copy(), lat.copy()
    if crs is not None:
        for name in ("gcj02", "bd09"):
            rows = _to_numpy(pc.equal(crs, _text(name)))
            if rows.any():
                wgs_lon[rows], wgs_lat[rows] = to_wgs84(lon[rows], lat[rows], name)
    status, grid, _distance = index.locate_positions(wgs_lon, wgs_lat)
    # Position -1 (no grid) takes the final null of each code table.
    grid_position = _to_arrow(np.where(grid < 0, len(codes.grid) - 1, grid))
    added = {
        "wgs84_lon": _fixed(wgs_lon),
        "wgs84_lat": _fixed(wgs_lat),
        "grid_code": codes.grid.take(grid_position),
        "community_code": codes.community.take(grid_position),
        "town_code": codes.town.take(grid_position),
        "status": codes.status.take(_to_arrow(status)),
    }
    columns = {name: _quoted(batch.column(name)) for name in batch.schema.names} | added
    return list(columns.values()), status


def _csv_lines(columns: list[pa.Array]) -> pa.Buffer:
    """The rows as CSV text: each row's values joined by commas (null as empty) and a line
    break, in one Arrow string array whose value buffer is the text itself."""
    *first, last = columns
    last = pc.binary_join_element_wise(
        last, _text("\n"), _text(""), null_handling="replace", null_replacement=""
    )
    lines = pc.binary_join_element_wise(
        *first, last, _text(","), null_handling="replace", null_replacement=""
    )
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset :]
    return lines.buffers()[2][offsets[0] : offsets[len(lines)]]


def _quoted(values: pa.Array) -> pa.Array:
    """Text as the csv module's QUOTE_MINIMAL writes it: quoted (inner quotes doubled) only
    when it holds a delimiter, a quote or a line break."""
    text = np.frombuffer(values.buffers()[2] or b"", dtype=np.uint8)
    if not np.isin(text, _SPECIAL_BYTES).any():  # the usual case, at memory speed
        return values
    needs_quotes = pc.match_substring_regex(values, r'[",\r\n]')
    quote = _text('"')
    quoted = pc.binary_join_element_wise(
        quote, pc.replace_substring(values, '"', '""'), quote, _text("")
    )
    return pc.if_else(needs_quotes, quoted, values)


def _fixed(values: npt.NDArray[np.float64]) -> pa.Array:
    """Numbers as text with _DECIMALS decimals, like "%.7f" but vectorised."""
    scaled = np.round(np.abs(values) * 10**_DECIMALS).astype(np.int64)
    whole = pc.cast(_to_arrow(scaled // 10**_DECIMALS), pa.string())
    fraction = pc.ascii_lpad(
        pc.cast(_to_arrow(scaled % 10**_DECIMALS), pa.string()), _DECIMALS, "0"
    )
    text = pc.binary_join_element_wise(whole, fraction, _text("."))
    negative = pc.cast(_to_arrow(np.signbit(values).view(np.uint8)), pa.bool_())
    return pc.if_else(negative, pc.binary_join_element_wise(_text("-"), text, _text("")), text)


def _output_columns(header: list[str]) -> list[str]:
    return header + [name for name in OUTPUT_COLUMNS if name not in header]


def _header_line(columns: list[str]) -> bytes:
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(columns)
    return line.getvalue().encode("utf-8")


# pa.array and Array.to_numpy import pandas, a second of the command's start-up; these
# conversions need no more than the buffers.


def _to_arrow(values: npt.NDArray[Any]) -> pa.Array:
    """A numeric numpy array as an Arrow array sharing its memory."""
    values = np.ascontiguousarray(values)
    arrow_type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


def _to_numpy(values: pa.Array) -> npt.NDArray[Any]:
    """A float64 or boolean Arrow array without nulls as numpy."""
    if values.type == pa.bool_():
        return _to_numpy(pc.cast(values, pa.uint8())).view(np.bool_)
    dtype = {pa.float64(): np.float64, pa.uint8(): np.uint8}[values.type]
    return np.frombuffer(values.buffers()[1], dtype=dtype)[
        values.offset : values.offset + len(values)
    ]


def _text(text: str) -> pa.Scalar:
    return _text_array([text])[0]


def _text_array(texts: Sequence[str | None]) -> pa.Array:
    """A short sequence of texts (None for null) as an Arrow string array."""
    encoded = [b"" if text is None else text.encode() for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(item) for item in encoded], out=offsets[1:])
    valid = np.packbits([text is not None for text in texts], bitorder="little")
    buffers = [pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)
