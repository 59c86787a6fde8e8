import subprocess
import sys

FORBIDDEN = ("models", "dispatch", "bot", "web", "sqlalchemy", "aiohttp", "aiogram")


def test_geo_imports_none_of_the_other_layers():
    code = (
        "import sys, pkgutil, importlib, geo\n"
        "for m in pkgutil.iter_modules(geo.__path__): importlib.import_module('geo.' + m.name)\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "geo" in loaded
    assert not set(FORBIDDEN) & set(loaded)
