"""The install takes exactly the locked set, whatever newer releases the package index serves.

The install command is read from ``.ci/run`` (and must be the README's), then run, offline, against a lock of
packages built here: an app whose dependency is asked for with an extra, with a newer release of that
dependency beside the locked one. The locks themselves are checked to be complete and consistent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import subprocess
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements.lock", "requirements-train.lock")


def install_flags() -> list[str]:
    """The options of the command in .ci/run that installs requirements.lock."""
    for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if words[:2] == [".venv/bin/pip", "install"] and "requirements.lock" in words:
            return [w for w in words[2:] if w not in ("-r", "requirements.lock", "--quiet")]
    raise AssertionError(".ci/run installs no requirements.lock")


def build_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = (),
                extras: tuple[str, ...] = ()) -> Path:
    """A minimal pure-Python wheel, as a build backend would write it."""
    info = f"{name}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    metadata += [f"Provides-Extra: {extra}" for extra in extras]
    metadata += [f"Requires-Dist: {requirement}" for requirement in requires]
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n",
             f"{info}/METADATA": "\n".join(metadata) + "\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: broadsheet-tests\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = [f"{path},sha256={_digest(text.encode())},{len(text.encode())}" for path, text in files.items()]
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def locked(wheel: Path, requirement: str) -> str:
    return f"{requirement} --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"


def test_the_readme_installs_as_ci_does() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"pip install {' '.join(install_flags())} -r requirements.lock" in readme


@pytest.mark.slow
def test_a_newer_release_on_the_index_does_not_change_the_install(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    app = build_wheel(index, "newsapp", "1.0", requires=("fakehttp[http2]>=0.23",))
    old = build_wheel(index, "fakehttp", "0.28", extras=("http2",))
    build_wheel(index, "fakehttp", "99.0", extras=("http2",))  # released after the lock was written
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"{locked(app, 'newsapp==1.0')}\n{locked(old, 'fakehttp==0.28')}\n", encoding="utf-8")
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", *install_flags(), "-r", str(lock), "--no-index",
         "--find-links", str(index), "--dry-run", "--ignore-installed", "--report", str(report)],
        capture_output=True, text=True, env={"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    chosen = {item["metadata"]["name"]: item["metadata"]["version"]
              for item in json.loads(report.read_text())["install"]}
    assert chosen == {"newsapp": "1.0", "fakehttp": "0.28"}


def lock_pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\\n\s+--hash=sha256:", text, re.MULTILINE))
    assert pins, f"{name} pins nothing"
    return {canonicalize_name(k): v for k, v in pins.items()}


@pytest.mark.parametrize("name", LOCKS)
def test_every_locked_package_has_a_version_and_a_hash(name: str) -> None:
    lines = [line for line in (ROOT / name).read_text(encoding="utf-8").splitlines()
             if line and not line.startswith((" ", "#"))]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[^\]]+\])?==\S+ \\", line) for line in lines), lines[:5]
    assert lock_pins(name)


def test_the_lock_has_what_the_installed_packages_require() -> None:
    """Every requirement of every locked package that is installed here is met by a locked version."""
    pins = lock_pins("requirements.lock")
    missing = []
    for name in pins:
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            pinned = pins.get(canonicalize_name(requirement.name))
            if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
                missing.append(f"{name} needs {requirement}, locked: {pinned}")
    assert not missing, missing


def test_the_default_install_has_no_torch() -> None:
    pins = lock_pins("requirements.lock")
    assert not {"torch", "transformers", "sentence-transformers", "sympy"} & pins.keys()
    assert {"torch", "transformers", "onnx"} <= lock_pins("requirements-train.lock").keys()
