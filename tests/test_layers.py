"""The dependency rule of DESIGN.md, checked on what importing each package really loads."""

import subprocess
import sys

import pytest

FORBIDDEN = {
    "geo": {"models", "dispatch", "bot", "web", "gridgov", "sqlalchemy", "aiohttp", "aiogram"},
    "dispatch": {"bot", "web", "gridgov", "aiohttp", "aiogram"},
    "models": {"dispatch", "geo", "bot", "web", "gridgov", "aiohttp", "aiogram"},
    # An adapter receives its context; it never reaches for the composition root, the bot,
    # or the ORM's session factory (`models.db`).
    "web": {"gridgov", "bot", "aiogram", "models.db"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_loads_none_of_the_layers_above_it(package: str) -> None:
    code = (
        f"import sys, pkgutil, importlib, {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted({*sys.modules, *(name.split('.')[0] for name in sys.modules)})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert package in loaded
    assert not FORBIDDEN[package] & set(loaded)


def test_the_core_is_pure() -> None:
    """`dispatch.core` loads no database driver, ORM, web or chat library, and of `models`
    only the plain enumerations."""
    code = (
        "import sys, pkgutil, importlib, dispatch.core\n"
        "for m in pkgutil.walk_packages(dispatch.core.__path__, 'dispatch.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "dispatch.core.lifecycle" in loaded
    tops = {name.split(".")[0] for name in loaded}
    assert not {"sqlalchemy", "asyncpg", "aiosqlite", "aiohttp", "aiogram"} & tops
    assert {name for name in loaded if name.startswith("models.")} == {"models.enums"}
