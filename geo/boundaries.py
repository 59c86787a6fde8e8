"""Reading grid boundary files (GeoJSON, Shapefile, GeoPackage) into validated WGS84 features."""

import zipfile
from numbers import Integral, Real
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError, GeometryError

from geo.errors import GridLayerError
from geo.grids import GridFeature, GridFields, GridLayerData
from geo.validation import (
    REQUIRED_VALUES,
    ProblemList,
    check_geometries,
    check_overlaps,
    check_properties,
)

SUPPORTED_SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".gpkg": "GeoPackage",
}
_READ_ERRORS = (DataSourceError, DataLayerError, FeatureError, FieldError, GeometryError)
WGS84 = "EPSG:4326"
_UNKNOWN_PRJ = "unknown CRS: the .prj file cannot be understood"


def read_grid_layer(
    path: str | Path,
    fields: GridFields = GridFields(),  # noqa: B008 - frozen dataclass, safe as a default
    *,
    layer: str | None = None,
    overlap_tolerance_m2: float = 1.0,
) -> GridLayerData:
    """Read, convert to WGS84 and validate a grid layer; raise GridLayerError listing every problem.

    layer picks one layer of a multi-layer file (GeoPackage). Grids may overlap by up to
    overlap_tolerance_m2 square metres, which lets digitising slivers through.
    """
    path = Path(path)
    frame = _read_frame(path, layer)
    codes = [_text(value) for value in frame[fields.code]] if fields.code in frame else []
    problems = ProblemList(codes)
    if frame.empty:
        problems.add("the layer has no features")

    values = {}
    for key in REQUIRED_VALUES:
        column = getattr(fields, key)
        if column in frame:
            values[key] = [_text(value) for value in frame[column]]
        else:
            problems.add(f"missing property column {column!r} (GridFields.{key})")
    check_properties(values, problems)

    source_crs, geometries = _to_wgs84(frame, path, problems)
    if geometries is not None:
        ok = check_geometries(geometries, problems)
        check_overlaps(geometries, ok, overlap_tolerance_m2, problems)

    if problems:
        raise GridLayerError(_summary(path, len(problems)), problems.lines())
    features = [
        GridFeature(**{key: values[key][i] for key in REQUIRED_VALUES}, polygon=geometry)
        for i, geometry in enumerate(geometries)
    ]
    return GridLayerData(features=features, source_crs=source_crs)


def _summary(path: Path, count: int) -> str:
    noun = "problem" if count == 1 else "problems"
    return f"cannot import grid layer {path.name}: {count} {noun}"


def _read_frame(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    def fail(message: str) -> GridLayerError:
        return GridLayerError(_summary(path, 1), [message])

    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(f"{kind} ({suffix})" for suffix, kind in SUPPORTED_SUFFIXES.items())
        raise fail(f"unsupported file type {path.suffix or '(none)'!r}: expected {kinds}")
    if not path.is_file():
        raise fail(f"file not found: {path}")
    kind = SUPPORTED_SUFFIXES[path.suffix.lower()]
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        if layer is None and len(layers) > 1:
            raise fail(f"the file has {len(layers)} layers ({', '.join(layers)}): choose one")
        if layer is not None and layer not in layers:
            raise fail(f"no layer {layer!r} in the file (it has: {', '.join(layers)})")
        frame = pyogrio.read_dataframe(path, layer=layer)
    except _READ_ERRORS as exc:
        if _prj_is_unreadable(path):  # GDAL fails on some broken .prj files
            raise fail(_UNKNOWN_PRJ) from exc
        raise fail(f"not a readable {kind} file: {exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise fail("the layer has no geometry column")
    return frame


def _to_wgs84(
    frame: gpd.GeoDataFrame, path: Path, problems: ProblemList
) -> tuple[str, np.ndarray | None]:
    """The source CRS and the geometries in WGS84, or None for the geometries on a CRS problem."""
    geometries = shapely.force_2d(frame.geometry.to_numpy())
    crs = frame.crs
    if crs is None:
        if _prj_is_unreadable(path):  # GDAL ignores others
            problems.add(_UNKNOWN_PRJ)
            return "unknown", None
        x0, y0, x1, y1 = shapely.total_bounds(geometries)  # NaN when there are no geometries
        lonlat = -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
        if not lonlat and np.isfinite(x0):
            problems.add(
                f"no CRS: the file does not name its coordinate system and its coordinates "
                f"(bounds {x0:.6g}, {y0:.6g}, {x1:.6g}, {y1:.6g}) are not lon/lat"
            )
            return "none", None
        return WGS84, geometries  # lon/lat without a CRS: GeoJSON's own rule, assume WGS84
    source_crs = crs.to_string()
    try:
        transformer = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    except pyproj.exceptions.ProjError as exc:
        problems.add(f"unsupported CRS {crs.name!r}: cannot convert it to WGS84 ({exc})")
        return source_crs, None
    projected = shapely.transform(
        geometries, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )
    return source_crs, projected


def _prj_is_unreadable(path: Path) -> bool:
    """Whether a Shapefile's .prj exists (beside it or in its zip) but is no CRS pyproj knows."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = [name for name in archive.namelist() if name.lower().endswith(".prj")]
            text = archive.read(names[0]).decode("utf-8", "replace") if names else None
    else:
        prj = path.with_suffix(".prj")
        text = prj.read_text("utf-8", "replace") if prj.is_file() else None
    if text is None:
        return False
    try:
        pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        return True
    return False


def _text(value: object) -> str:
    """A property value as a stripped string; integral numbers lose any '.0' a format added."""
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()
