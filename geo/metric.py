"""A local metric projection for measuring areas and distances around one place."""

import numpy as np
import numpy.typing as npt
import pyproj
import shapely


class LocalMetric:
    """Lambert azimuthal equal-area projection centred on (lon, lat), in metres.

    Areas are exact; distances are within 0.02 % up to 200 km from the centre, which is far
    better than the metre a grid layer needs.
    """

    def __init__(self, lon: float, lat: float) -> None:
        self.lon, self.lat = lon, lat
        self.crs = pyproj.CRS.from_proj4(
            f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +ellps=WGS84 +units=m +no_defs"
        )
        self._to_metric = pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    @classmethod
    def around(cls, geometries: npt.ArrayLike) -> "LocalMetric":
        """Centred on the middle of the bounding box of WGS84 geometries."""
        x0, y0, x1, y1 = shapely.total_bounds(geometries)
        return cls((x0 + x1) / 2, (y0 + y1) / 2)

    def xy(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Project WGS84 lon/lat to metres."""
        x, y = self._to_metric.transform(lon, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def project(self, geometries: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Project WGS84 geometries to metres."""
        geometries = np.asarray(geometries, dtype=object)
        return shapely.transform(geometries, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))
