"""The commands that look without changing anything: ``sources list|check``, ``show`` and ``extract``.

``sources`` reads a sources file (and, when there is one, the warehouse's ``source_health``); ``show``
prints one stored article with what enrichment found in it; ``extract`` fetches or reads one page and
prints the article extraction would store from it, writing nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import DEFAULT_SOURCES_FILE, Settings
from broadsheet.config.sources import SourceConfig, load_sources
from broadsheet.flows.cli_common import ConfigOption, DbOption, FormatOption, retry_locked, settings_from
from broadsheet.flows.output import OutputFormat, out, print_record, print_rows, table
from broadsheet.tasks.fetch import is_url

SourcesOption = Annotated[Path | None, typer.Option(
    "--sources", help="Sources TOML (default: pipeline.sources_file, config/sources.toml).")]
sources_app = typer.Typer(help="List the declared sources with their health, or check a sources file.",
                          no_args_is_help=True)


def _sources_file(settings: Settings, path: Path | None) -> Path:
    return path or settings.pipeline.sources_file or DEFAULT_SOURCES_FILE


@sources_app.command("list")
def sources_list(sources_file: SourcesOption = None, db: DbOption = None, config: ConfigOption = None,
                 output: FormatOption = OutputFormat.table) -> None:
    """Each declared source: kind, location, schedule, and from the warehouse its last fetch and health."""
    settings = settings_from(config, db)
    from broadsheet.warehouse.reports import source_status

    sources = load_sources(_sources_file(settings, sources_file))
    status = retry_locked(lambda: source_status(settings.warehouse))
    columns = ["name", "kind", "location", "schedule", "enabled", "last_fetched_at", "pages", "articles",
               "fetch_success_rate", "extraction_success_rate"]
    rows = [(s.name, s.kind, s.location, s.schedule, s.enabled,
             *(status.get(s.name, {}).get(column) for column in columns[5:])) for s in sources]
    print_rows(columns, rows, output)


@sources_app.command("check")
def sources_check(sources_file: SourcesOption = None, config: ConfigOption = None,
                  output: FormatOption = OutputFormat.table) -> None:
    """Validate a sources file: its TOML and fields (an error names the first bad one), then each location.

    Exits 2 when a location is neither an http(s) URL nor an existing file or folder."""
    settings = settings_from(config, None)
    path = _sources_file(settings, sources_file)
    sources = load_sources(path)
    rows = [(s.name, s.kind, s.location, s.schedule, _problem(s)) for s in sources]
    print_rows(["name", "kind", "location", "schedule", "problem"], rows, output)
    bad = [row for row in rows if row[4]]
    if output is OutputFormat.table:
        out.print(f"{path}: {len(sources)} source(s), {len(bad)} with a problem")
    if bad:
        raise typer.Exit(2)


def _problem(source: SourceConfig) -> str | None:
    """What is wrong with the source's location, or None."""
    if is_url(source.location):
        return None
    if source.location.startswith(("http:", "https:")) or "://" in source.location:
        return "not a valid http(s) URL"
    if not Path(source.location).expanduser().exists():
        return "no such file or folder"
    return None


def show(
    key: Annotated[str, typer.Argument(metavar="ID|URL", help="Article id, URL or canonical URL.")],
    db: DbOption = None,
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """One stored article: metadata, entities with salience, topics, keyphrases, cluster and versions."""
    settings = settings_from(config, db)
    from broadsheet.warehouse.reports import article_report

    report = retry_locked(lambda: article_report(settings.warehouse, key))
    print_record(report, output, lambda: _print_article(report))


def _print_article(report: dict[str, Any]) -> None:
    article = report["article"]
    out.print(Text(article["title"] or "(no title)", style="bold"))
    out.print(table(["field", "value"], [(k, v) for k, v in article.items() if k != "title"]))
    for name in ("entities", "topics", "keyphrases", "versions"):
        if report[name]:
            out.print(table(list(report[name][0]), [tuple(r.values()) for r in report[name]], title=name))
    cluster = report["cluster"]
    out.print(f"cluster {cluster['cluster_id']} ({cluster['match_kind']}), {len(cluster['others'])} other article(s)")
    if cluster["others"]:
        out.print(table(list(cluster["others"][0]), [tuple(r.values()) for r in cluster["others"]]))


def extract(
    location: Annotated[str, typer.Argument(metavar="URL|FILE", help="Page URL, or a saved .html/.html.gz/.txt "
                                                                      "file.")],
    enrich: Annotated[bool, typer.Option(help="Also tag it as ingest would: entities with salience, topics, "
                                              "keyphrases (loads the models, a few seconds).")] = True,
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Fetch or read one page and print the article that would be stored, with its entities, topics and
    keyphrases; writes nothing (a dry run).

    Exits 4 when the page would be rejected, printing the stage, reason and message."""
    from broadsheet.config.records import Candidate
    from broadsheet.tasks.extract import extract_articles
    from broadsheet.tasks.fetch import fetch_pages, file_url, require_html

    settings = settings_from(config, None)
    if not is_url(location):
        if not Path(location).expanduser().is_file():
            raise ConfigError(f"{location}: neither an http(s) URL nor an existing file")
        location = file_url(Path(location).expanduser())
    fetched = fetch_pages([Candidate(location, "extract")], settings.http)
    pages, not_html = require_html(fetched.pages)
    articles, rejected = extract_articles(pages, settings.extract)
    rejections = fetched.rejections + not_html + rejected
    if rejections:
        [rejection] = rejections
        print_record({"rejection": asdict(rejection)}, output,
                     lambda: out.print(f"rejected {rejection.stage}/{rejection.error_type}: {rejection.message}"))
        raise typer.Exit(4)
    [article] = articles
    record: dict[str, Any] = {"article": {**asdict(article), "text_chars": len(article.text)}}
    if enrich:
        from broadsheet.tasks.enrich import enrich_articles

        [enrichment] = enrich_articles([article], settings)
        record["enrichment"] = _enrichment_record(enrichment)
    print_record(record, output, lambda: _print_extracted(record))


def _enrichment_record(enrichment: Any) -> dict[str, Any]:
    """What the enrichers would store, by entity rather than by id (the embedding vector left out)."""
    salience = {s.entity_id: s for s in enrichment.salience}
    entities = [{"name": e.name, "entity_type": e.entity_type, "country_code": e.country_code,
                 "mentions": salience[e.entity_id].mentions if e.entity_id in salience else 0,
                 "salience": salience[e.entity_id].score if e.entity_id in salience else None}
                for e in enrichment.entities]
    entities.sort(key=lambda e: -(e["salience"] or 0.0))
    return {"entities": entities, "topics": [asdict(t) for t in enrichment.topics],
            "subtopics": [asdict(t) for t in enrichment.subtopics],
            "keyphrases": [asdict(k) for k in enrichment.keyphrases],
            "entity_enricher": enrichment.entity_enricher, "topic_enricher": enrichment.topic_enricher}


def _print_extracted(record: dict[str, Any]) -> None:
    article = record["article"]
    out.print(table(["field", "value"], [(k, v) for k, v in article.items() if k != "text"]))
    out.print(Text(article["text"]))
    if "enrichment" in record:
        found = record["enrichment"]
        out.print(table(["entity", "type", "mentions", "salience"],
                        [(e["name"], e["entity_type"], e["mentions"], e["salience"]) for e in found["entities"]]))
        out.print(table(["topic", "score"], [(t["topic_id"], t["score"]) for t in found["topics"]]))
        out.print(table(["keyphrase", "score"], [(k["phrase"], k["score"]) for k in found["keyphrases"]]))
