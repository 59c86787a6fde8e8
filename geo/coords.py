"""Coordinate systems used by Chinese map apps: WGS84, GCJ-02 and BD-09.

GCJ-02 ("Mars coordinates", used by Amap/Gaode, Tencent and WeChat) is WGS84 plus a
deliberately obfuscated offset of a few hundred metres; BD-09 (Baidu) is a further distortion of
GCJ-02. The forward formulas are public. Their inverses have no closed form: the common one-step
inverse (subtract the offset computed at the wrong point) is metres off, more than a street's
width, so the inverses here iterate until the forward transform of the answer reproduces the
input.

Every function takes scalars or numpy arrays of lon/lat in degrees and returns the same shape:
floats for scalars, float64 arrays for arrays.
"""

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from geo.errors import CoordinateError

CRS_NAMES = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-10  # inverse stops when the forward image is this close (~0.01 mm)
_MAX_ITERATIONS = 30

FloatArray = npt.NDArray[np.float64]
T = TypeVar("T", float, FloatArray)
Forward = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where the point lies outside the bounding box in which GCJ-02 applies an offset."""
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def check_lonlat(lon: npt.ArrayLike, lat: npt.ArrayLike) -> None:
    """Raise CoordinateError when any lon/lat is NaN, infinite or out of range."""
    problems = lonlat_problems(np.atleast_1d(lon), np.atleast_1d(lat))
    if not problems:
        return
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    if scalar:
        raise CoordinateError(problems[0][1])
    shown = "; ".join(f"point {i}: {text}" for i, text in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    raise CoordinateError(f"{len(problems)} invalid coordinates: {shown}{more}")


def lonlat_problems(lon: FloatArray, lat: FloatArray) -> list[tuple[int, str]]:
    """(index, description) for each invalid pair, in index order; empty when all are valid."""
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if lon.shape != lat.shape:
        raise CoordinateError(f"lon and lat differ in shape: {lon.shape} vs {lat.shape}")
    bad = ~((np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0))  # also catches NaN
    problems = []
    for i in np.flatnonzero(bad):
        x, y = float(lon[i]), float(lat[i])
        texts = [_value_problem("lon", x, 180.0), _value_problem("lat", y, 90.0)]
        if abs(y) > 90.0 and 0.0 < abs(x) <= 90.0:
            texts.append("are lon and lat swapped?")
        problems.append((int(i), "; ".join(t for t in texts if t)))
    return problems


def _value_problem(name: str, value: float, limit: float) -> str:
    if np.isnan(value):
        return f"{name} is NaN"
    if not abs(value) <= limit:
        return f"{name} {value!r} is outside [-{limit:g}, {limit:g}]"
    return ""


def wgs84_to_gcj02(lon: T, lat: T) -> tuple[T, T]:
    """WGS84 → GCJ-02 (identity outside China)."""
    check_lonlat(lon, lat)
    return _result(*_wgs84_to_gcj02(*_arrays(lon, lat)), lon, lat)


def gcj02_to_wgs84(lon: T, lat: T) -> tuple[T, T]:
    """GCJ-02 → WGS84, iterated to within ~0.01 mm of the exact inverse."""
    check_lonlat(lon, lat)
    return _result(*_invert(_wgs84_to_gcj02, *_arrays(lon, lat)), lon, lat)


def gcj02_to_bd09(lon: T, lat: T) -> tuple[T, T]:
    """GCJ-02 → BD-09."""
    check_lonlat(lon, lat)
    return _result(*_gcj02_to_bd09(*_arrays(lon, lat)), lon, lat)


def bd09_to_gcj02(lon: T, lat: T) -> tuple[T, T]:
    """BD-09 → GCJ-02, iterated like gcj02_to_wgs84."""
    check_lonlat(lon, lat)
    return _result(*_invert(_gcj02_to_bd09, *_arrays(lon, lat)), lon, lat)


def wgs84_to_bd09(lon: T, lat: T) -> tuple[T, T]:
    """WGS84 → BD-09."""
    check_lonlat(lon, lat)
    return _result(*_wgs84_to_bd09(*_arrays(lon, lat)), lon, lat)


def bd09_to_wgs84(lon: T, lat: T) -> tuple[T, T]:
    """BD-09 → WGS84, inverting the whole WGS84 → BD-09 chain at once."""
    check_lonlat(lon, lat)
    return _result(*_invert(_wgs84_to_bd09, *_arrays(lon, lat)), lon, lat)


def to_wgs84(lon: T, lat: T, crs: str) -> tuple[T, T]:
    """Convert from crs ("wgs84", "gcj02" or "bd09", case-insensitive) to WGS84."""
    name = normalise_crs(crs)
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if name == "bd09":
        return bd09_to_wgs84(lon, lat)
    check_lonlat(lon, lat)
    return _result(*_arrays(lon, lat), lon, lat)


def normalise_crs(crs: str) -> str:
    """The canonical name of a coordinate system name, or CoordinateError if unknown."""
    name = crs.strip().lower() if isinstance(crs, str) else crs
    if name not in CRS_NAMES:
        raise CoordinateError(f"unknown crs {crs!r}: expected one of {', '.join(CRS_NAMES)}")
    return name


def _arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _result(x: FloatArray, y: FloatArray, lon: T, lat: T) -> tuple[T, T]:
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        return float(x), float(y)
    return x, y


def _wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = lon - 105.0, lat - 35.0
    sin_x6, sin_x2 = np.sin(6.0 * x * np.pi), np.sin(2.0 * x * np.pi)
    common = (20.0 * sin_x6 + 20.0 * sin_x2) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += common
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def _gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _wgs84_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


def _invert(forward: Forward, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration x += target - forward(x).

    forward is the identity plus an offset that changes by well under 1% per unit of input, so
    each step shrinks the error more than a hundredfold; three or four steps reach ~1e-12°.
    """
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        ex, ey = lon - fx, lat - fy
        x, y = x + ex, y + ey
        if np.all(np.abs(ex) <= _TOLERANCE_DEG) and np.all(np.abs(ey) <= _TOLERANCE_DEG):
            break
    return x, y
