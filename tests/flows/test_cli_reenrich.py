"""``broadsheet reenrich --dry-run`` answers from the warehouse alone, without Prefect."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from broadsheet.warehouse.connection import connect


def test_a_dry_run_answers_without_prefect(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    connect(db).close()
    with socket.socket() as probe:  # a Prefect API nobody answers: any flow run would fail against it
        probe.bind(("127.0.0.1", 0))
        dead_api = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
    env = {**os.environ, "PREFECT_API_URL": dead_api}
    result = subprocess.run([str(Path(sys.executable).with_name("broadsheet")), "reenrich", "--dry-run",
                             "--db", str(db), "--format", "json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stale"] == 0
