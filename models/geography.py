"""The administrative hierarchy (county → town → community) and the grids."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_column, utcnow
from models.enums import AreaLevel


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[AreaLevel] = mapped_column(enum_column(AreaLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)

    parent: Mapped["Area | None"] = relationship(remote_side=[id])


class GridLayer(Base):
    """One imported boundary layer; the newest row is the one in force."""

    __tablename__ = "grid_layers"

    id: Mapped[int] = mapped_column(primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_name: Mapped[str] = mapped_column(String(255))
    source_crs: Mapped[str] = mapped_column(String(255))
    grid_count: Mapped[int] = mapped_column(Integer)


class Grid(Base):
    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layers.id"), index=True)
    # WGS84 polygon as WKB, so SQLite and PostgreSQL (with or without PostGIS) store it alike.
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)

    community: Mapped[Area] = relationship()


class GridLayerIndex(Base):
    """A layer's prepared lookup index (`geo.index.GridIndex.to_bytes`) and map outlines,
    built once when the layer is imported so that every instance loads them instead of
    rebuilding them; a layer's grids never change after its import, so neither do these."""

    __tablename__ = "grid_layer_indexes"

    layer_id: Mapped[int] = mapped_column(
        ForeignKey("grid_layers.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[int] = mapped_column(Integer)  # geo.index.STORED_FORMAT when written
    index_data: Mapped[bytes] = mapped_column(LargeBinary)
    outlines: Mapped[bytes] = mapped_column(LargeBinary)  # GeoJSON
