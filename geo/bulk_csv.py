"""Locating every row of a CSV of points, in chunks, all or nothing."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.coords import CRS_NAMES, lonlat_problems, to_wgs84
from geo.errors import CsvInputError
from geo.index import GridIndex

Progress = Callable[[int, int], None]
OUTPUT_COLUMNS = ("wgs84_lon", "wgs84_lat", "grid_code", "community_code", "town_code", "status")
CHUNK_ROWS = 100_000


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
    chunk_rows: int = CHUNK_ROWS,
) -> CsvLocateSummary:
    """Locate each row of in_path (columns lon, lat and optionally crs) and write out_path.

    The output has every input column, unchanged, plus OUTPUT_COLUMNS (existing columns of those
    names are replaced). crs is wgs84, gcj02 or bd09 per row; empty or absent means wgs84.
    The whole file is checked first; on any bad row CsvInputError names every bad row (data rows
    are numbered from 1, the header not counted) and out_path is not touched. progress, when
    given, is called with (rows done, total rows) after each chunk.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    total = _check(in_path, chunk_rows)
    if progress:
        progress(0, total)
    counts = dict.fromkeys(("inside", "tolerance", "outside"), 0)
    temp_path = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        with temp_path.open("x", encoding="utf-8", newline="") as out:
            done = 0
            for chunk in _read(in_path, chunk_rows):
                located = _locate_chunk(index, chunk)
                located.to_csv(out, index=False, header=done == 0, float_format="%.7f")
                for status, count in located["status"].value_counts().items():
                    counts[status] += int(count)
                done += len(chunk)
                if progress:
                    progress(done, total)
        temp_path.replace(out_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return CsvLocateSummary(rows=total, **counts)


def _read(path: Path, chunk_rows: int, columns: list[str] | None = None):
    """The file as chunks of strings, exactly as written (no type guessing, no NaN parsing)."""
    return pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        chunksize=chunk_rows,
        usecols=columns,
    )


def _header(path: Path) -> list[str]:
    return list(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns)


def _check(path: Path, chunk_rows: int) -> int:
    """Validate every row; return the row count or raise CsvInputError."""
    problems: list[str] = []
    rows = 0
    try:
        header = _header(path)
        missing = [name for name in ("lon", "lat") if name not in header]
        if missing:
            raise CsvInputError(
                f"{path.name}: missing column {' and '.join(missing)}",
                [f"the columns are: {', '.join(header)}"],
            )
        columns = [name for name in ("lon", "lat", "crs") if name in header]
        for chunk in _read(path, chunk_rows, columns):
            problems += _chunk_problems(chunk, first_row=rows + 1)
            rows += len(chunk)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CsvInputError(f"cannot read {path.name} as a UTF-8 CSV file", [str(exc)]) from exc
    if problems:
        raise CsvInputError(f"{path.name}: {len(problems)} bad rows, nothing written", problems)
    return rows


def _chunk_problems(chunk: pd.DataFrame, first_row: int) -> list[str]:
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


def _locate_chunk(index: GridIndex, chunk: pd.DataFrame) -> pd.DataFrame:
    lon = pd.to_numeric(chunk["lon"].str.strip()).to_numpy(dtype=np.float64)
    lat = pd.to_numeric(chunk["lat"].str.strip()).to_numpy(dtype=np.float64)
    crs = (
        chunk["crs"].str.strip().str.lower().replace("", "wgs84").to_numpy()
        if "crs" in chunk
        else np.full(len(chunk), "wgs84", dtype=object)
    )
    wgs_lon, wgs_lat = lon.copy(), lat.copy()
    for name in ("gcj02", "bd09"):
        rows = crs == name
        if rows.any():
            wgs_lon[rows], wgs_lat[rows] = to_wgs84(lon[rows], lat[rows], name)
    located = index.locate_many(wgs_lon, wgs_lat)
    return chunk.assign(
        wgs84_lon=wgs_lon,
        wgs84_lat=wgs_lat,
        grid_code=located.grid_code,
        community_code=located.community_code,
        town_code=located.town_code,
        status=located.status,
    )
