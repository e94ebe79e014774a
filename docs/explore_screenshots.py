"""The README's screenshots of `broadsheet explore`: the search page and an entity page, over the demo.

Ingests the demo into a temporary folder (or uses --db), serves the explorer on a free 127.0.0.1 port,
and has headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by Selenium) photograph
the page once every panel is drawn. Re-run it after changing the page:

    .venv/bin/python docs/explore_screenshots.py [--db data/broadsheet.duckdb] [--out docs/]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from selenium import webdriver
from selenium.webdriver.common.by import By

from broadsheet.config.settings import load_settings
from broadsheet.flows.explore import create_app


def drawn(driver: webdriver.Chrome, loads: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if driver.execute_script("return document.body.dataset.state === 'ready' && "
                                 "document.body.dataset.loads === arguments[0]", str(loads)):
            time.sleep(0.5)  # let Vega finish its transitions
            return
        time.sleep(0.2)
    raise SystemExit(f"the explorer did not finish load {loads} within 120 s")


def photograph(url: str, out: Path) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1500",
                     "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService("/usr/bin/chromedriver"))
    try:
        driver.get(url)
        drawn(driver, 1)
        driver.save_screenshot(str(out / "explore-search.png"))
        driver.find_element(By.LINK_TEXT, "United States").click()
        drawn(driver, 2)
        driver.set_window_size(1280, 900)
        driver.save_screenshot(str(out / "explore-entity.png"))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="warehouse to show (default: the demo, ingested afresh)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="folder for the PNGs")
    options = parser.parse_args()
    db = options.db
    if db is None:
        db = Path(tempfile.mkdtemp(prefix="broadsheet-shots-")) / "broadsheet.duckdb"
        subprocess.run([str(Path(sys.executable).with_name("broadsheet")), "demo", "--quiet", "--db", str(db)],
                       check=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(load_settings(warehouse={"path": db})), log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.1)
    try:
        photograph(f"http://127.0.0.1:{sock.getsockname()[1]}/", options.out)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    print(f"wrote {options.out / 'explore-search.png'} and {options.out / 'explore-entity.png'}")


if __name__ == "__main__":
    main()
