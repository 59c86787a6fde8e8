"""The build step pyproject.toml cannot declare: compiled gettext catalogs (.mo) are not
committed, so every build (`pip install .`, a wheel) compiles the .po files into the package."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        for po in sorted(ROOT.glob("*/locales/*/LC_MESSAGES/*.po")):
            mo = Path(self.build_lib) / po.relative_to(ROOT).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog, use_fuzzy=True)  # as `make assets` compiles them


setup(cmdclass={"build_py": BuildWithCatalogs})
