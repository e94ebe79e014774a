"""The models broadsheet ships: one folder per model, read in place, never fetched at run time.

Each folder under this package holds a model's files, a ``manifest.json`` and a ``MODEL_CARD.md``. The
manifest names the model's version (which goes into the enricher's name, so a new model makes stored
articles stale for ``broadsheet reenrich``), its settings, and the SHA-256 of every file. The scripts that
build the folders live in ``training/`` and need the ``train`` extra (torch); running a model needs only
ONNX Runtime, tokenizers and NumPy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from broadsheet.config.errors import ConfigError

MODELS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ShippedModel:
    """A model folder and what its manifest says of it."""

    name: str
    folder: Path
    version: str
    settings: dict[str, Any]
    files: dict[str, str]

    def path(self, filename: str) -> Path:
        """The path of one of the model's files, which the manifest must list."""
        if filename not in self.files:
            raise ConfigError(f"model {self.name!r} has no file {filename!r} in its manifest")
        return self.folder / filename


def model_folder(name: str, root: Path = MODELS_DIR) -> Path:
    folder = root / name
    if not (folder / "manifest.json").is_file():
        known = sorted(p.name for p in root.iterdir() if (p / "manifest.json").is_file())
        raise ConfigError(f"no shipped model {name!r} under {root} (known: {', '.join(known) or 'none'}); "
                          "reinstall broadsheet, or rebuild it with the script its MODEL_CARD.md names")
    return folder


@lru_cache(maxsize=8)
def shipped_model(name: str, root: Path = MODELS_DIR) -> ShippedModel:
    """The model ``name``, once per process, after checking every file against its manifest's checksum."""
    folder = model_folder(name, root)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        files, version = dict(manifest["files"]), str(manifest["version"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read {folder / 'manifest.json'} ({exc})") from exc
    for filename, expected in files.items():
        if Path(filename).name != filename:
            raise ConfigError(f"{folder / 'manifest.json'} names {filename!r}: a model's files are plain names in its "
                              "own folder")
        actual = file_sha256(folder / filename)
        if actual != expected:
            raise ConfigError(f"{folder / filename} is damaged or was changed (sha256 {actual[:12]}…, manifest "
                              f"says {expected[:12]}…); reinstall broadsheet")
    return ShippedModel(name, folder, version, dict(manifest.get("settings", {})), files)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, or "missing" when it is not there."""
    if not path.is_file():
        return "missing"
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, version: str, settings: dict[str, Any]) -> Path:
    """Write ``folder``'s manifest over every file in it but the manifest and the card (for build scripts)."""
    files = {p.name: file_sha256(p) for p in sorted(folder.iterdir())
             if p.is_file() and p.name not in {"manifest.json", "MODEL_CARD.md"}}
    path = folder / "manifest.json"
    path.write_text(json.dumps({"version": version, "settings": settings, "files": files}, indent=2) + "\n",
                    encoding="utf-8")
    return path


def onnx_session(path: Path, threads: int) -> Any:
    """An ONNX Runtime session of ``path`` on the CPU with ``threads`` threads (0: ONNX Runtime's choice)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # No arena nor pre-planned buffers: texts vary in length, so both only grow (~200 MB a process).
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.log_severity_level = 3  # errors only: its warnings are not the user's to act on
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unrelated types for a missing or damaged file
        raise ConfigError(f"cannot load the model {path} ({type(exc).__name__}: {exc}); reinstall broadsheet") from exc


def load_tokenizer(path: Path) -> Any:
    """The fast tokenizer in ``path`` (a tokenizer.json), with padding off: callers pad their own batches."""
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for a missing or unreadable file
        raise ConfigError(f"cannot read the tokenizer {path} ({exc}); reinstall broadsheet") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer
