"""The sample county shipped for the first run (`make demo`).

A part of 德清县 (Deqing County, Huzhou, Zhejiang; code 330521) divided into three
subdistricts, their communities/villages and about 300 grids, plus a catalog of departments,
event categories, routing rules, the 2026 working calendar and sample people. The files are
made by `python -m gridgov.sample.generate` and committed; the geometry is synthetic.
"""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
GRIDS_PATH = SAMPLE_DIR / "grids.geojson"
CATALOG_PATH = SAMPLE_DIR / "catalog.json"
CONDITIONS_PATH = SAMPLE_DIR / "conditions.json"  # 立案/结案条件 per category

__all__ = ["CATALOG_PATH", "CONDITIONS_PATH", "GRIDS_PATH", "SAMPLE_DIR"]
