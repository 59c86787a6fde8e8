"""Loading the sample county into an empty database, for `gridgov demo`."""

import json

from sqlalchemy import func, select, update

from dispatch.accounts import hash_password
from dispatch.configuration import apply_catalog
from dispatch.geography import import_layer
from dispatch.supervision.conditions import apply_conditions
from geo.boundaries import read_grid_layer
from gridgov.app import App
from gridgov.sample import CATALOG_PATH, CONDITIONS_PATH, GRIDS_PATH
from gridgov.sample.cases import seed_cases
from gridgov.sample.supervision import seed_supervision
from models import Grid, Person, utcnow

DEMO_PASSWORD = "gridgov-demo"  # printed by `gridgov demo`; the sample people only


async def load_sample(app: App) -> bool:
    """Loads the sample county, its people and some cases; False if grids exist already."""
    async with app.sessions() as session, session.begin():
        if await session.scalar(select(func.count(Grid.id))):
            return False
        await import_layer(session, read_grid_layer(GRIDS_PATH), "sample county")
        await apply_catalog(session, json.loads(CATALOG_PATH.read_text("utf-8")))
        await apply_conditions(session, json.loads(CONDITIONS_PATH.read_text("utf-8")))
        await session.execute(update(Person).values(password_hash=hash_password(DEMO_PASSWORD)))
    await app.casework.refresh()
    now = utcnow()
    await seed_cases(app.casework, now)
    await seed_supervision(app.casework, now)
    return True
