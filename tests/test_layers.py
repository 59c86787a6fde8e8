"""The dependency rule of DESIGN.md, checked on what importing each package really loads."""

import subprocess
import sys

import pytest

FORBIDDEN = {
    "geo": {"models", "dispatch", "bot", "web", "gridgov", "sqlalchemy", "aiohttp", "aiogram"},
    "dispatch": {"bot", "web", "gridgov", "aiohttp", "aiogram"},
    "models": {"dispatch", "geo", "bot", "web", "gridgov", "aiohttp", "aiogram"},
    # An adapter receives its context; it never reaches for the composition root or the ORM's
    # session factory (`models.db`). The web chat speaks to the conversation core, never to
    # another channel's adapter; the core knows no chat platform at all.
    "web": {"gridgov", "bot.telegram", "bot.wecom", "aiogram", "wechatpy", "models.db"},
    "bot": {"gridgov", "web", "models.db"},
    "bot.conversation": {"gridgov", "web", "models.db", "aiogram", "aiohttp", "wechatpy"},
}


def loaded_by(package: str) -> set[str]:
    """Every module (and each of its parents) loaded by importing the package and all of its
    modules in a fresh interpreter."""
    code = (
        f"import sys, pkgutil, importlib, {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    names = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 2)}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_loads_none_of_the_layers_above_it(package: str) -> None:
    loaded = loaded_by(package)
    assert package in loaded
    assert not FORBIDDEN[package] & loaded


def test_the_core_is_pure() -> None:
    """`dispatch.core` loads no database driver, ORM, web or chat library, and of `models`
    only the plain enumerations."""
    loaded = loaded_by("dispatch.core")
    assert "dispatch.core.lifecycle" in loaded
    assert not {"sqlalchemy", "asyncpg", "aiosqlite", "aiohttp", "aiogram"} & loaded
    assert {name for name in loaded if name.startswith("models.")} == {"models.enums"}
