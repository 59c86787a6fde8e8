"""Photographs the demo for the README: the supervisor's dashboard, an office's case page and
the monthly assessment (考核), from a fresh `gridgov demo` in a temporary directory, in
Debian's Chromium.

    .venv/bin/python scripts/screenshots.py            # writes docs/img/*.png
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
PASSWORD = "gridgov-demo"
SHOTS = ("dashboard.png", "case.png", "assessment.png")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(240):
        if server.poll() is not None:
            sys.exit("gridgov demo stopped before it answered")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit("gridgov demo did not answer within two minutes")


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GRIDGOV_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/demo.db",
            "GRIDGOV_HTTP_PORT": str(port),
            "GRIDGOV_MEDIA_DIR": f"{tmp}/media",
        }
        env.pop("GRIDGOV_TELEGRAM_TOKEN", None)
        gridgov = Path(sys.executable).with_name("gridgov")
        server = subprocess.Popen([str(gridgov), "demo"], env=env, stdout=subprocess.DEVNULL)
        try:
            wait_until_up(base, server)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                login(page, base, "zhaomin")
                page.wait_for_selector("#map[data-ready]")
                page.wait_for_selector("#chart-days[data-ready]")
                page.wait_for_timeout(800)  # the charts' own drawing
                page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
                office = browser.new_page(viewport={"width": 1366, "height": 900})
                login(office, base, "lina")
                office.click("#case-list tbody tr:first-child td:nth-child(2) a")
                office.wait_for_selector("#map[data-ready]")
                office.screenshot(path=str(OUT / "case.png"), full_page=True)
                last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
                page.goto(f"{base}/console/assessment?month={last_month}")
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(800)  # the trend charts' own drawing
                page.screenshot(path=str(OUT / "assessment.png"), full_page=False)
                browser.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"written: {', '.join(str(OUT / n) for n in SHOTS)}")


if __name__ == "__main__":
    main()
