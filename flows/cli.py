"""The ``broadsheet`` command line: ingest, query, search, explore, export, stats, demo, reenrich, reextract,
server and serve (``show``, ``extract`` and ``sources`` live in :mod:`.cli_inspect`).

Commands only parse arguments, call library functions and print (:mod:`.output`: plain text for people,
the versioned machine format of ``--format``). Exit codes scripts can rely on: 0 success, 1 unexpected
failure, 2 bad usage, settings or SQL statement, 3 warehouse unavailable (missing or locked), 4 an ingest
could not read one of its sources at all, 130 and 143 a run stopped by SIGINT (Ctrl-C) or SIGTERM (recorded
``interrupted``; a second signal stops at once). ``--quiet`` prints nothing but errors. A run's own warnings
(a wait for a locked warehouse) are shown; library log lines and Python warnings only with
``broadsheet --verbose COMMAND``; ``serve`` always shows its runs' log lines (they are its output)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from broadsheet.config.errors import BroadsheetError, ConfigError, QueryError, WarehouseError
from broadsheet.config.settings import (
    DEFAULT_SOURCES_FILE,
    RUN_LOGGERS,
    Settings,
    apply_process_environment,
    prefect_api_url,
)
from broadsheet.config.sources import SOURCE_KINDS, SourceConfig, SourceKind, load_sources, source_from_argument
from broadsheet.flows.cli_common import (
    ConfigOption,
    DbOption,
    FormatOption,
    JsonOption,
    QuietOption,
    chosen_format,
    retry_locked,
    settings_from,
    stopped_by_signals,
)
from broadsheet.flows.cli_inspect import extract, show, sources_app
from broadsheet.flows.cli_progress import stage_bars
from broadsheet.flows.output import FORMAT_VERSION, OutputFormat, err, error, out, print_record, print_rows, warning
from broadsheet.tasks.fetch import is_url

app = typer.Typer(
    help="broadsheet: turn news on the web into an analytical DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_FAILURE, EXIT_USAGE, EXIT_WAREHOUSE, EXIT_SOURCE_FAILED = 1, 2, 3, 4

_verbose = False


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        out.print(f"broadsheet {version('broadsheet')} (output format {FORMAT_VERSION})")
        raise typer.Exit()


@app.callback()
def _global_options(verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also show library log lines (Prefect, trafilatura) and Python warnings.")] = False,
        _version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                               help="Print broadsheet's version and its output format's, then exit.")]
        = False,
) -> None:
    global _verbose
    _verbose = verbose
    if not verbose:
        warnings.simplefilter("ignore")
        os.environ.setdefault("PYTHONWARNINGS", "ignore")  # the worker processes too


def _quiet_logging(quiet: bool) -> None:
    """Library log lines at errors only, unless ``--verbose``; the runs' own warnings too when ``quiet``
    (before prefect is imported)."""
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    if quiet or not _verbose:
        apply_process_environment(quiet=True, run_warnings=not quiet)
        logging.getLogger("prefect").setLevel(logging.ERROR)
        for name in RUN_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR if quiet else logging.WARNING)


@app.command()
def ingest(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Feed URL, page URL, file listing URLs, or folder of .html/.html.gz/.txt files. "
             "None: the sources in --sources (default config/sources.toml).", show_default=False)] = None,
    kind: Annotated[str, typer.Option(help=f"Force the kind of every SOURCE: {', '.join(SOURCE_KINDS)}.")] = "auto",
    sources_file: Annotated[Path | None, typer.Option("--sources", help="Sources TOML to read when no SOURCE "
                                                                         "is given.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Documents per batch (pipeline.batch_size).")] = None,
    limit: Annotated[int | None, typer.Option(
        help="At most N documents per source the warehouse has not seen (no page, no rejection), in source "
             "order; run again for the next N (discover.limit).", min=1)] = None,
    since: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Only documents whose feed, sitemap or WARC date is on or after DATE; "
                                   "undated ones are kept (discover.since).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Discover, fetch, extract, tag and load articles from SOURCEs into the warehouse."""
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
    window = {**({"limit": limit} if limit else {}), **({"since": since.date()} if since else {})}
    settings = settings_from(config, db, pipeline={} if batch_size is None else {"batch_size": batch_size},
                             discover=window)
    chosen = _chosen_sources(sources or [], kind, sources_file or settings.pipeline.sources_file)  # type: ignore[arg-type]
    output = chosen_format(output, as_json)
    summary = _run_ingest(chosen, settings, quiet or output is not OutputFormat.table)
    if not quiet or output is not OutputFormat.table:
        print_record(summary.to_dict(), output, lambda: _print_summary(summary))
    if summary.failed_sources:
        for name, message in summary.failures.items():
            error(f"could not read source {name!r}: {message}")
        raise typer.Exit(EXIT_SOURCE_FAILED)


def _chosen_sources(arguments: list[str], kind: SourceKind, sources_file: Path | None) -> list[SourceConfig]:
    if arguments:
        missing = [a for a in arguments if not is_url(a) and not Path(a).expanduser().exists()]
        if missing:
            raise ConfigError(f"{', '.join(missing)}: neither an http(s) URL nor an existing file or folder")
        return [source_from_argument(location, kind) for location in arguments]
    path = sources_file or DEFAULT_SOURCES_FILE
    declared = [s for s in load_sources(path) if s.enabled]
    if not declared:
        raise ConfigError(f"no SOURCE given and no enabled [[sources]] in {path}: "
                          "pass a feed URL, page URL, URL file or folder, or declare sources")
    return declared


def _run_ingest(sources: list[SourceConfig], settings: Settings, quiet: bool) -> Any:
    """:func:`~broadsheet.flows.ingest.run_ingest`, with a progress bar unless quiet."""
    _quiet_logging(quiet)  # before prefect is imported
    _start_prefect_api(settings)
    from broadsheet.flows.ingest import run_ingest

    with stopped_by_signals():
        if quiet:
            return run_ingest(sources, settings)
        with stage_bars(err) as show:
            return run_ingest(sources, settings, on_progress=show)


def _start_prefect_api(settings: Settings) -> None:
    """Start the temporary Prefect server the run will need, if no API is chosen: call it before prefect is
    imported, which takes seconds, so that the server starts meanwhile (the run's ``prefect_api`` uses it)."""
    from broadsheet.flows.prefect_server import start_early

    start_early(settings.server)


def _print_summary(summary: Any, warehouse: bool = True) -> None:
    out.print(f"Run {summary.run_id}", markup=False)
    table = Table(show_header=True)
    table.add_column("stage")
    table.add_column("documents", justify="right")
    for stage, value in vars(summary.counts).items():
        table.add_row(stage, str(value))
    out.print(table)
    for reason, count in summary.rejections.items():
        example = summary.messages.get(reason) or summary.examples[reason]
        out.print(f"  rejected {reason}: {count}, e.g. {example}")
    if summary.pending_batches:
        warning(f"{summary.pending_batches} batch(es) staged, not loaded: the warehouse was locked; "
                "the next run loads them")
    for message in summary.warnings:
        warning(f"warning: {message}")
    if warehouse:
        out.print(f"Warehouse: {summary.warehouse}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run, read-only (SELECT, DESCRIBE, SHOW ...).")],
    output: FormatOption = OutputFormat.table,
    wait: Annotated[float, typer.Option(help="Seconds to keep retrying while a load holds the warehouse.")] = 10.0,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Run SQL against the warehouse, opened read-only, and print the result."""
    settings = settings_from(config, db)
    from broadsheet.warehouse.reports import run_query

    columns, rows = retry_locked(lambda: run_query(settings.warehouse, sql), wait)
    print_rows(columns, rows, output)


class SearchMode(StrEnum):
    text = "text"
    semantic = "semantic"


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="What to look for: words (BM25 over title and text) or a "
                                             "description (--mode semantic).")],
    mode: Annotated[SearchMode, typer.Option(help="text (BM25 full-text) or semantic (embeddings).")]
    = SearchMode.text,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Articles dated on or after "
                                                                              "this day.")] = None,
    until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Articles dated on or before "
                                                                              "this day.")] = None,
    source: Annotated[str | None, typer.Option(help="Only articles of this source.")] = None,
    entity: Annotated[str | None, typer.Option(help="Only articles naming this entity (name or id).")] = None,
    topic: Annotated[str | None, typer.Option(help="Only articles with this topic (id or label).")] = None,
    limit: Annotated[int, typer.Option(help="Results shown at most.", min=1, max=1000)] = 10,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Search the latest article versions by words (BM25) or meaning (embeddings), with filters."""
    settings = settings_from(config, db)
    from broadsheet.flows.search import run_search
    from broadsheet.warehouse.search import SearchFilters

    filters = SearchFilters(since.date() if since else None, until.date() if until else None, source, entity, topic)
    hits = retry_locked(lambda: run_search(settings, text, mode.value, filters, limit), 10.0)
    columns = ["score", "article_date", "source_id", "title", "canonical_url", "article_id"]
    print_rows(columns, [(round(h.score, 4), h.article_date, h.source_id, h.title, h.canonical_url, h.article_id)
                          for h in hits], output)


@app.command()
def explore(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 to serve on (0 picks a free one).",
                                      min=0, max=65535)] = 8150,
    wait: Annotated[float, typer.Option(help="Seconds a request keeps retrying while a load holds the warehouse "
                                             "before the page says it is busy.")] = 5.0,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve a read-only web explorer of the warehouse on 127.0.0.1: search, charts, map, entities, sources."""
    settings = settings_from(config, db)
    from broadsheet.flows.explore import serve_explorer
    from broadsheet.warehouse.connection import warehouse_exists

    if not warehouse_exists(settings.warehouse):
        raise WarehouseError(f"no warehouse at {settings.warehouse.path}: run `broadsheet ingest` first or pass --db")
    serve_explorer(settings, port, wait, lambda url: out.print(
        f"Exploring {settings.warehouse.path} at {url} (read-only). Stop with Ctrl-C."))


@app.command()
def export(
    folder: Annotated[Path, typer.Argument(help="Folder to write the Parquet files into (created if missing).")],
    db: DbOption = None,
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
) -> None:
    """Write the warehouse as Parquet, article tables partitioned by date, for other tools."""
    settings = settings_from(config, db)
    from broadsheet.warehouse.connection import connect
    from broadsheet.warehouse.export import export_parquet

    with contextlib.closing(retry_locked(lambda: connect(settings.warehouse, read_only=True, writes_to=folder),
                                         10.0)) as conn:
        result = export_parquet(conn, folder)
    print_record({"folder": result.folder, "rows": result.rows}, chosen_format(output, as_json),
                 lambda: out.print(f"Exported to {result.folder}: " +
                                   ", ".join(f"{t} {n}" for t, n in result.rows.items())))


@app.command()
def stats(db: DbOption = None, config: ConfigOption = None, output: FormatOption = OutputFormat.table,
          as_json: JsonOption = False) -> None:
    """Summarise the warehouse: rows per table, top entities, top topics, rejections, last runs."""
    settings = settings_from(config, db)
    from broadsheet.warehouse.reports import warehouse_report

    report = retry_locked(lambda: warehouse_report(settings.warehouse), 10.0)
    print_record(report, chosen_format(output, as_json), lambda: _print_report(report))


def _print_report(report: dict[str, Any]) -> None:
    out.print(Text.assemble(("Warehouse", "bold"), f" {report['warehouse']}"))
    out.print("  " + ", ".join(f"{table} {count}" for table, count in report["tables"].items()))
    for title, key in (("Top entities", "top_entities"), ("Top topics", "top_topics"),
                       ("Rejections", "rejections"), ("Last runs", "runs")):
        rows = report[key]
        if not rows:
            continue
        table = Table(*rows[0].keys(), title=title, title_justify="left")
        for row in rows:
            table.add_row(*(Text(_cell(key, value)) for key, value in row.items()))
        out.print(table)


def _cell(column: str, value: Any) -> str:
    """A report value as a table shows it in 80 columns: times to the minute, run ids by their first part."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if column == "run_id":
        return str(value).split("-", 1)[0]
    return str(value)


@app.command()
def demo(db: DbOption = None, config: ConfigOption = None, output: FormatOption = OutputFormat.table,
         as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Serve a small news site on 127.0.0.1, ingest its RSS feed, and summarise the warehouse."""
    settings = settings_from(config, db, http={"allow_private_addresses": True})
    from broadsheet.flows.demo import demo_site
    from broadsheet.warehouse.reports import warehouse_report

    with demo_site() as feed_url:
        output = chosen_format(output, as_json)
        machine = output is not OutputFormat.table
        if not quiet and not machine:
            out.print(f"Demo news site: {feed_url}\nIngesting into {settings.warehouse.path}", markup=False)
        summary = _run_ingest([SourceConfig(name="demo", location=feed_url, kind="feed")], settings,
                              quiet or machine)
    report = warehouse_report(settings.warehouse)
    def human() -> None:
        _print_summary(summary, warehouse=False)
        _print_report(report)

    if not quiet or machine:
        print_record({"run": summary.to_dict(), "warehouse": report}, output, human)


@app.command()
def reenrich(
    limit: Annotated[int | None, typer.Option(help="Re-enrich at most N stale articles (oldest first).",
                                              min=1)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count the stale articles.")] = False,
    batch_size: Annotated[int | None, typer.Option(help="Articles per batch (pipeline.batch_size).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Re-enrich stored articles tagged by older models, rules or taxonomy, from their stored text."""
    settings = settings_from(config, db, pipeline={} if batch_size is None else {"batch_size": batch_size})
    from broadsheet.warehouse.connection import warehouse_exists

    if not warehouse_exists(settings.warehouse):
        raise WarehouseError(f"no warehouse at {settings.warehouse.path}: run `broadsheet ingest` first")
    output = chosen_format(output, as_json)
    if dry_run:  # answered from the warehouse alone: no flow run, no Prefect server
        from broadsheet.flows.reenrich import count_stale

        summary = retry_locked(lambda: count_stale(settings, limit))
    else:
        _quiet_logging(quiet or output is not OutputFormat.table)
        _start_prefect_api(settings)
        from broadsheet.flows.prefect_server import prefect_api
        from broadsheet.flows.reenrich import reenrich_flow

        with stopped_by_signals(), prefect_api(settings.server) as api_ready:
            api_ready()
            summary = reenrich_flow(settings, limit)
    verb = "stale (dry run)" if dry_run else f"stale, {summary.enriched} re-enriched"
    if not quiet or output is not OutputFormat.table:
        print_record(summary.to_dict(), output,
                     lambda: out.print(f"{summary.stale} article(s) {verb} in {summary.warehouse}"))


@app.command()
def reextract(
    limit: Annotated[int | None, typer.Option(help="Re-extract at most N stale articles (oldest first).",
                                              min=1)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count the stale articles.")] = False,
    batch_size: Annotated[int | None, typer.Option(help="Articles per batch (pipeline.batch_size).")] = None,
    sources_file: Annotated[Path | None, typer.Option(
        "--sources", help="Sources TOML whose [extract] overrides apply to their articles (default: "
                          "pipeline.sources_file, else config/sources.toml).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    output: FormatOption = OutputFormat.table,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Re-extract stored pages (no fetch) of articles made by another extractor, its settings or URL rules.

    Articles whose canonical URL or text changed get a new id; `article_key_changes` maps old ids to new.
    Those whose text or title changed are enriched again."""
    settings = settings_from(config, db, pipeline={} if batch_size is None else {"batch_size": batch_size})
    from broadsheet.warehouse.connection import warehouse_exists

    if not warehouse_exists(settings.warehouse):
        raise WarehouseError(f"no warehouse at {settings.warehouse.path}: run `broadsheet ingest` first")
    output = chosen_format(output, as_json)
    _quiet_logging(quiet or output is not OutputFormat.table)
    _start_prefect_api(settings)
    from broadsheet.flows.prefect_server import prefect_api
    from broadsheet.flows.reextract import reextract_flow

    path = sources_file or settings.pipeline.sources_file or DEFAULT_SOURCES_FILE
    sources = load_sources(path) if sources_file or path.exists() else []
    with stopped_by_signals(), prefect_api(settings.server) as api_ready:
        api_ready()
        summary = reextract_flow(settings, limit, dry_run, sources)
    verb = "stale (dry run)" if dry_run else (
        f"stale, {summary.extracted} re-extracted, {summary.rekeyed} re-keyed, {summary.reenriched} re-enriched, "
        f"{summary.rejected} rejected")
    if not quiet or output is not OutputFormat.table:
        print_record(summary.to_dict(), output,
                     lambda: out.print(f"{summary.stale} article(s) {verb} in {summary.warehouse}"))


@app.command()
def server(
    port: Annotated[int | None, typer.Option(help="Port to listen on (server.port, default 4200).")] = None,
    config: ConfigOption = None,
) -> None:
    """Start a local Prefect server (UI and run history) and keep it running until Ctrl-C."""
    settings = settings_from(config, None, server={} if port is None else {"port": port})
    from broadsheet.flows.prefect_server import serve_until_stopped, start_server

    process = start_server(settings.server, settings.server.port)
    out.print(f"Prefect server running: UI http://127.0.0.1:{settings.server.port}  "
              f"API http://127.0.0.1:{settings.server.port}/api")
    out.print("broadsheet commands in this folder now report to it. Stop with Ctrl-C.")
    serve_until_stopped(settings.server, process)


@app.command()
def serve(
    sources_file: Annotated[Path | None, typer.Option("--sources", help="Sources TOML whose scheduled sources "
                                                                         "are served.")] = None,
    config: ConfigOption = None,
) -> None:
    """Run every scheduled source on its schedule (Prefect deployments) until SIGTERM or Ctrl-C.

    The runs share warm worker processes, their models loaded, freed once unused for
    pipeline.worker_idle_seconds."""
    settings = settings_from(config, None)
    path = sources_file or settings.pipeline.sources_file or DEFAULT_SOURCES_FILE
    sources = load_sources(path)
    from broadsheet.flows.prefect_server import use_running_server
    from broadsheet.flows.schedule import scheduled_sources, serve_sources

    url = use_running_server(settings.server)

    chosen = scheduled_sources(sources)
    out.print(f"Serving {len(chosen)} scheduled source(s) from {path} "
              f"({'Prefect API ' + url if url else 'no Prefect server found: start `broadsheet server` to see runs'}).")
    serve_sources(chosen)


app.command()(show)
app.command()(extract)
app.add_typer(sources_app, name="sources")


def main() -> None:
    """Entry point of the ``broadsheet`` console script."""
    apply_process_environment()
    try:
        app()
    except WarehouseError as exc:
        error(exc.message)
        sys.exit(EXIT_WAREHOUSE)
    except (ConfigError, QueryError) as exc:
        error(exc.message)
        sys.exit(EXIT_USAGE)
    except BroadsheetError as exc:
        error(exc.message)
        sys.exit(EXIT_FAILURE)
    except Exception as exc:
        if not _lost_prefect_api(exc):
            raise
        error(f"lost the Prefect API at {prefect_api_url()} during the run ({exc}). "
              "The warehouse holds only whole batches; start the server again (or unset PREFECT_API_URL) "
              "and run the same command again: it picks up where this run stopped.")
        sys.exit(EXIT_FAILURE)


def _lost_prefect_api(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) comes from a Prefect API that stopped answering."""
    import httpx

    seen: BaseException | None = exc
    while seen is not None:
        # Prefect wraps the client's connection errors (httpx, httpcore) in its own private classes.
        if isinstance(seen, httpx.TransportError) or type(seen).__module__.startswith("httpcore") or \
                type(seen).__name__ == "ConcurrencySlotAcquisitionError":
            return prefect_api_url() is not None
        seen = seen.__cause__ or seen.__context__
    return False


if __name__ == "__main__":
    main()
