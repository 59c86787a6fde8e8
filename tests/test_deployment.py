"""docker-compose.yml cannot be run here (no Docker engine), so it is checked for what would
break a deployment: its shape, health checks, volumes and the settings it passes."""

from pathlib import Path

import yaml

from gridgov.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_runs_postgres_and_the_app_in_webhook_mode() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert "postgis" in db["image"] and db["healthcheck"]["test"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["healthcheck"]["test"] and "/healthz" in " ".join(app["healthcheck"]["test"])
    assert {v.split(":")[0] for v in db["volumes"] + app["volumes"]} <= set(compose["volumes"])
    env = app["environment"]
    assert env["GRIDGOV_TELEGRAM_MODE"] == "webhook"
    assert env["GRIDGOV_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_every_setting_the_compose_file_passes_exists() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    passed = {k.removeprefix("GRIDGOV_").lower() for k in compose["services"]["app"]["environment"]}
    assert passed <= set(Settings.model_fields)
