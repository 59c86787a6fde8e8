"""A plain `pip install .` (a wheel, not the working tree) carries the compiled catalogs, so
the bot starts with its English texts (issue 10: "this language is not compiled")."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
CATALOGS = sorted(ROOT.glob("*/locales/*/LC_MESSAGES/*.po"))


def source_tree(into: Path) -> Path:
    """The project's files as a fresh checkout has them: no compiled catalogs."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    assert not list(into.glob("*/locales/*/LC_MESSAGES/*.mo"))
    return into


def test_the_wheel_carries_compiled_catalogs_that_load(tmp_path: Path) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    source = source_tree(tmp_path / "src")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # As `pip install .` builds: in an isolated environment with pyproject's build requirements.
    build = ["wheel", "--no-deps", "-w", str(wheels), str(source)]
    subprocess.run([*pip, *build], check=True, timeout=600, cwd=tmp_path)
    [wheel] = wheels.glob("gridgov-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(po.relative_to(ROOT).with_suffix(".mo")) for po in CATALOGS}
    assert len(expected) >= 4 and expected <= names
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import bot; assert bot.__file__.startswith(sys.argv[1]), bot.__file__;"
        "from bot.conversation.i18n import LOCALES_DIR, catalog;"
        "print(sorted(p.name for p in LOCALES_DIR.iterdir()"
        " if (p / 'LC_MESSAGES' / 'messages.mo').is_file()));"
        "print(catalog('zh_CN').gettext('Status: {status}'))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe, str(target)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert "'en'" in shown and "'zh_CN'" in shown
    assert "状态" in shown  # the Chinese catalog is read from the installed copy
