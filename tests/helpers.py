"""What several test modules share: paths, a local site's pages and feed, loopback URLs, and builders of
articles, batches and loads against a real warehouse. Test modules import from here, never from each other."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
from pytest_httpserver import HTTPServer

from broadsheet.config.records import (
    Article,
    Batch,
    Enrichment,
    Entity,
    FetchRecord,
    Mention,
    Page,
    Rejection,
    Salience,
    TopicScore,
)
from broadsheet.config.settings import DedupSettings, Settings, WarehouseSettings
from broadsheet.tasks.extract.identity import article_id, canonical_url, content_hash
from broadsheet.warehouse.connection import Target, connect, local_path
from broadsheet.warehouse.loading import LoadResult, load_staged
from broadsheet.warehouse.staging import stage_batch, staging_dir

REPO = Path(__file__).resolve().parents[1]
DAY = datetime(2026, 3, 3, 9, tzinfo=UTC)
NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)

WIRE = ("The central bank raised interest rates by a quarter point on Tuesday, its third increase this year, "
        "saying inflation remained too high. Governor Maria Costa told reporters the bank would watch wages and "
        "energy prices closely before deciding on further moves. Markets had expected the decision, and bond "
        "yields barely moved after the announcement. Economists said the bank was likely near the end of its "
        "tightening cycle, though some warned that a weaker currency could push prices up again next spring.")
FLOOD = ("Heavy rain swelled the river overnight and the harbour district flooded by dawn. Firefighters "
         "evacuated two hundred residents from low streets near the quay, and the mayor opened the sports hall "
         "as a shelter. The weather service expects more rain on Thursday and kept its red warning in place for "
         "the valley, where the river has burst its banks twice in the last decade.")


def article(url: str, text: str, *, source: str = "src", title: str = "Title", seen: datetime = DAY,
            published: datetime | None = DAY) -> Article:
    canonical = canonical_url(url)
    digest = content_hash(text)
    return Article(article_id(canonical, digest), url, canonical, source, title, (), published, "en", "site",
                   text, digest, seen, "test")


def enrichment(item: Article, entity: str = "Maria Costa", topic: str = "economy",
               vector: tuple[float, ...] = ()) -> Enrichment:
    found = Entity(f"e-{entity.lower().replace(' ', '-')}", entity, "person", entity.lower())
    return Enrichment(item.article_id, (found,), (), (TopicScore(topic, 0.5, 1),), "ner@1", "topics@1", "tax1",
                      (Salience(found.entity_id, 1, False, True, 0, 0.5),), (), vector, "test-model" if vector else "")


def batch_of(*items: Article, vectors: dict[str, tuple[float, ...]] | None = None) -> Batch:
    pages = [Page(a.url, a.url, a.source, a.text.encode(), "text/html", a.fetched_at) for a in items]
    return Batch(list(items), [enrichment(a, vector=(vectors or {}).get(a.article_id, ())) for a in items], pages)


def load(target: Target, batch: Batch, run_id: str = "run1", dedup: DedupSettings | None = None) -> LoadResult:
    stage_batch(batch, run_id, staging_dir(local_path(target)))
    conn = connect(target)
    try:
        return load_staged(conn, staging_dir(local_path(target)), dedup)
    finally:
        conn.close()


def query(target: Target, sql: str, parameters: list | None = None) -> list[tuple]:
    conn = connect(target, read_only=True)
    try:
        return conn.execute(sql, parameters or []).fetchall()
    finally:
        conn.close()


# Tables a load derives from the base tables (migrations 0010, 0012 and 0014), and the migrations' own SQL rebuilding
# them into temp tables: what every load must leave them equal to.
DERIVED_TABLES = {"article_facts": "rb_facts", "topic_day_stories": "rb_topic_day_stories",
                  "story_clusters": "rb_story_clusters", "entity_mention_totals": "rb_entity_mention_totals"}


def _rebuild_sql() -> list[str]:
    folder = REPO / "warehouse" / "migrations"
    core = (folder / "0010_add_article_facts.sql").read_text(encoding="utf-8").replace("article_facts", "rb_facts0")
    derived = (folder / "0012_add_story_and_topic_aggregates.sql").read_text(encoding="utf-8")
    derived = "create table article_facts__new" + derived.split("create table article_facts__new", 1)[1]
    derived = derived.split("drop table article_facts;")[0].replace("article_facts__new", "rb_facts12")
    derived = derived.replace("article_facts", "rb_facts0")
    for table, scratch in DERIVED_TABLES.items():
        if table != "article_facts":
            derived = derived.replace(table, scratch)
    explorer = (folder / "0014_add_explorer_facts.sql").read_text(encoding="utf-8")
    explorer = explorer.split("drop table article_facts;")[0].replace("article_facts__new", "rb_facts")
    explorer = explorer.replace("article_facts", "rb_facts12")
    return [(core + derived + explorer).replace("create table ", "create temp table ")]


def derived_rows(target: Target, *, rebuilt: bool = False) -> dict[str, list[tuple]]:
    """The derived tables' rows, sorted; ``rebuilt``: as the migrations compute them from the base tables now."""
    conn = connect(target, read_only=True)
    try:
        if rebuilt:
            for statement in _rebuild_sql():
                conn.execute(statement)
        tables = DERIVED_TABLES.items()
        rows = {table: sorted(conn.execute(f"select * from {scratch if rebuilt else table}").fetchall(), key=repr)
                for table, scratch in tables}
        key = "md5_number_lower(entity_id)" if rebuilt else "entity_key"
        rows["entities"] = sorted(conn.execute(f"select entity_id, {key} from entities").fetchall())
        return rows
    finally:
        conn.close()


def duckdb_target(tmp_path: Path) -> WarehouseSettings:
    return WarehouseSettings(path=tmp_path / "w.duckdb")


def rows(settings: Settings, sql: str) -> list[tuple]:
    """Rows of ``sql`` on the settings' warehouse, opened read-only."""
    conn = duckdb.connect(str(settings.warehouse.path), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()




def loopback(server: HTTPServer, path: str) -> str:
    """The server's URL for ``path`` on 127.0.0.1 (the plugin's own url_for says localhost)."""
    return f"http://127.0.0.1:{server.port}{path}"


def article_html(title: str, text: str) -> str:
    body = "".join(f"<p>{text} Paragraph {i} adds detail for readers.</p>" for i in range(4))
    return (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><nav>Home News</nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>Footer</footer></body></html>")


def rss(base: str, links: list[str]) -> str:
    items = "".join(f"<item><title>Item {i}</title><link>{base}{link}</link>"
                    f"<pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate></item>" for i, link in enumerate(links))
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>"


def make_batch(article_id: str = "a1", text: str = "Body text about Lisbon.") -> Batch:
    page = Page("https://n.example/1", "https://n.example/1", "src", b"<html>x</html>", "text/html", NOW)
    article = Article(article_id, page.url, page.url, "src", "Title", ("Ana Ruiz",), NOW, "en", "N", text,
                      "h" + article_id, NOW, "test", page.page_id)
    lisbon = Entity("e-lisbon", "Lisbon", "place", "lisbon")
    enrichment = Enrichment(article_id, (lisbon,), (Mention("e-lisbon", "Lisbon", 16, 22, False),),
                            (TopicScore("politics", 0.5, 1),), "ner@1", "topics@1", "tax1")
    fetch = FetchRecord(page.url, page.url, 200, "text/html", 14, '"etag"', None, NOW, 5.0)
    rejection = Rejection("fetch", "https://n.example/2", "src", "http_status", "answered HTTP 404")
    return Batch([article], [enrichment], [page], [fetch], [rejection])


def process_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, which nothing may reap here, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
