"""`broadsheet explore` in a real browser: headless Chromium (Debian's) driven by Selenium over the demo warehouse.

The demo is ingested once (the real console script), the explorer serves it on 127.0.0.1 in a thread, and
each test drives the page as an analyst would. One browser runs with the network cut: every host name but
127.0.0.1 fails to resolve and everything else goes to a closed proxy port.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from broadsheet.config.settings import Settings, load_settings

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SEARCH_PANELS = ("attention", "entities", "topics", "subtopics", "sources", "countries", "cities", "stories")
TIMEOUT = 60.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="Debian's chromium and chromium-driver are not installed (`apt-get install chromium "
                              "chromium-driver`; .ci/run does it when it can)"),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path = tmp_path_factory.mktemp("explore") / "broadsheet.duckdb"
    subprocess.run([str(Path(sys.executable).with_name("broadsheet")), "demo", "--quiet", "--db", str(path)],
                   check=True, timeout=900)
    return load_settings(warehouse={"path": path})


@pytest.fixture(scope="module")
def explorer(demo_settings: Settings) -> Iterator[str]:
    """The explorer over the demo warehouse on a free 127.0.0.1 port; yields its URL."""
    import socket

    import uvicorn

    from broadsheet.flows.explore import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(demo_settings), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "the explorer to start")
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server.should_exit = True
    thread.join(timeout=10)


def chromium(downloads: Path | None = None, offline: bool = False) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,2400"):
        options.add_argument(argument)
    if offline:
        # Loopback never goes through a proxy, so only 127.0.0.1 stays reachable.
        options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
        options.add_argument("--proxy-server=http://127.0.0.1:9")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    if downloads is not None:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = chromium()
    yield driver
    driver.quit()


def wait_until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up after {TIMEOUT:.0f} s waiting for {what}")


def loaded(driver: Any, loads: int) -> None:
    """Wait until the page finished its ``loads``-th answer and drew every panel."""
    wait_until(lambda: driver.execute_script(
        "return document.body.dataset.state === 'ready' && document.body.dataset.loads === arguments[0]",
        str(loads)), f"load {loads} to be drawn")
    error = driver.find_element(By.ID, "error")
    assert not error.is_displayed(), error.text


def panel_rows(driver: Any) -> dict[str, int]:
    return {name: int(driver.find_element(By.CSS_SELECTOR, f'#page-search section[data-panel="{name}"]')
                      .get_attribute("data-rows")) for name in SEARCH_PANELS}


def map_marks(driver: Any) -> tuple[int, int, int]:
    """Countries drawn, countries shaded by the news, and city points on the map."""
    return driver.execute_script("""
        const map = document.querySelector('section[data-panel="countries"] .chart');
        const [world, news] = map.querySelectorAll('g.mark-shape');
        return [world.querySelectorAll('path').length, news.querySelectorAll('path').length,
                map.querySelectorAll('g.mark-symbol path').length];""")


def test_the_page_loads_the_demo_warehouse(explorer: str, browser: Any) -> None:
    browser.get(explorer)
    loaded(browser, 1)
    assert browser.find_element(By.ID, "summary").text == "5 articles selected."
    rows = panel_rows(browser)
    assert all(count > 0 for count in rows.values()), rows
    assert rows["sources"] == 1
    assert "US Senators Meet MEK Leader in Tirana" in browser.find_element(
        By.CSS_SELECTOR, 'section[data-panel="stories"]').text


def test_a_search_updates_every_panel(explorer: str, browser: Any) -> None:
    browser.get(explorer)
    loaded(browser, 1)
    before = panel_rows(browser)
    box = browser.find_element(By.NAME, "q")
    box.send_keys("senators")
    box.submit()
    loaded(browser, 2)
    after = panel_rows(browser)
    assert browser.find_element(By.ID, "summary").text == "1 article selected."
    changed = {name for name in SEARCH_PANELS if after[name] != before[name]}
    assert changed == set(SEARCH_PANELS) - {"sources"}, (before, after)  # one source either way
    stories = browser.find_element(By.CSS_SELECTOR, 'section[data-panel="stories"]').text
    assert "US Senators Meet MEK Leader in Tirana" in stories and "Marathon" not in stories
    assert "Mojahedin-e-Khalq" in browser.find_element(By.CSS_SELECTOR, 'section[data-panel="entities"]').text
    assert "q=senators" in browser.find_element(By.CSS_SELECTOR, 'section[data-panel="sources"] a.csv') \
        .get_attribute("href")


def test_the_map_draws_countries_shaded_and_cities(explorer: str, browser: Any) -> None:
    browser.get(explorer)
    loaded(browser, 1)
    countries, shaded, cities = map_marks(browser)
    assert countries >= 170  # Natural Earth 1:110m has 177
    rows = panel_rows(browser)
    assert 0 < shaded <= rows["countries"]  # a code the outline lacks (a tiny island state) is not drawn
    assert cities == rows["cities"]


def test_a_panel_downloads_as_csv(explorer: str, tmp_path: Path) -> None:
    driver = chromium(downloads=tmp_path)
    try:
        driver.get(explorer)
        loaded(driver, 1)
        driver.find_element(By.CSS_SELECTOR, 'section[data-panel="attention"] a.csv').click()
        target = tmp_path / "broadsheet-attention.csv"
        wait_until(lambda: target.exists() and target.stat().st_size > 0, "the CSV download")
    finally:
        driver.quit()
    [header, *days] = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert header == ["day", "stories", "articles"]
    assert sum(int(articles) for _, _, articles in days) == 5  # the demo's five articles, on days of their own


def test_an_entity_page_and_source_health_draw(explorer: str, browser: Any) -> None:
    browser.get(explorer)
    loaded(browser, 1)
    browser.find_element(By.LINK_TEXT, "Mojahedin-e-Khalq").click()
    loaded(browser, 2)
    assert browser.find_element(By.ID, "entity-title").text.startswith("Mojahedin-e-Khalq (organization")
    aliases = browser.find_element(By.CSS_SELECTOR, 'section[data-panel="entity_aliases"]').text
    assert "MEK" in aliases
    for name in ("entity_mentions", "entity_cooccurring", "entity_stories"):
        assert int(browser.find_element(By.CSS_SELECTOR, f'section[data-panel="{name}"]').get_attribute("data-rows"))
    browser.find_element(By.ID, "nav-sources").click()
    loaded(browser, 3)
    health = browser.find_element(By.CSS_SELECTOR, 'section[data-panel="source_health"]')
    assert "demo" in health.text and len(health.find_elements(By.CSS_SELECTOR, "svg.spark polyline")) == 2


def test_with_the_network_unavailable_everything_still_draws(explorer: str) -> None:
    driver = chromium(offline=True)
    try:
        with pytest.raises(WebDriverException, match="ERR_"):  # the cut is real: the internet is out of reach
            driver.get("http://example.com/")
        driver.get(explorer)
        loaded(driver, 1)
        assert map_marks(driver)[0] >= 170
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map((entry) => entry.name)")
    finally:
        driver.quit()
    assert fetched and all(url.startswith(explorer) for url in fetched), fetched
