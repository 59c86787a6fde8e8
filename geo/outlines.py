"""The grid layer as GeoJSON for maps: offline there are no tiles, so the grids are the base
map; outlines are simplified to about a metre."""

import json
from collections.abc import Sequence

import numpy as np
import shapely

from geo.grids import GridFeature


def outlines_geojson(features: Sequence[GridFeature]) -> bytes:
    polygons = np.array([f.polygon for f in features], dtype=object)
    shapes = shapely.to_geojson(shapely.simplify(polygons, 1e-5, preserve_topology=True))
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f.code, "name": f.name, "community": f.community_name},
                "geometry": json.loads(shape),
            }
            for f, shape in zip(features, shapes, strict=True)
        ],
    }
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
