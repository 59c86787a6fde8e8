"""The peer of `gridgov locate --csv`: what an analyst writes with geopandas.

python bench/geopandas_locate.py GRIDS POINTS.csv OUT.csv
"""

import sys

import geopandas as gpd
import pandas as pd

grids_path, points_path, out_path = sys.argv[1:4]
grids = gpd.read_file(grids_path).to_crs("EPSG:4326")
points = pd.read_csv(points_path, dtype=str)
geometry = gpd.points_from_xy(points["lon"].astype(float), points["lat"].astype(float))
points = gpd.GeoDataFrame(points, geometry=geometry, crs="EPSG:4326")
columns = ["code", "community_code", "town_code", "geometry"]
joined = gpd.sjoin(points, grids[columns], how="left", predicate="within")
joined.drop(columns=["geometry", "index_right"]).to_csv(out_path, index=False)
