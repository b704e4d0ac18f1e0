"""The record `brickyard run` keeps in its data dir (shared.running): written owner-only, read
back while its process lives, ignored once it is gone (a SIGKILLed run leaves it behind)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shared.running import record_path, recorded, running, with_running_servers
from shared.settings import Settings


def test_a_live_record_gives_its_servers_and_goes_at_the_end(tmp_path: Path) -> None:
    settings = Settings().replace(data_dir=tmp_path, redis_url="redis://elsewhere:6379/0")
    resolved = settings.replace(database_url="postgresql://postgres:@/brickyard?host=/x")
    with recorded(settings, resolved):
        assert record_path(tmp_path).stat().st_mode & 0o777 == 0o600
        record = running(tmp_path)
        assert record is not None and record.redis_url is None  # external: not recorded
        found = with_running_servers(Settings().replace(data_dir=tmp_path))
        assert found.database_url == resolved.database_url and found.redis_url is None
    assert not record_path(tmp_path).exists()
    assert running(tmp_path) is None


def test_nothing_embedded_records_nothing(tmp_path: Path) -> None:
    settings = Settings().replace(
        data_dir=tmp_path, database_url="postgresql://db/x", redis_url="redis://r:6379/0"
    )
    with recorded(settings, settings):
        assert not record_path(tmp_path).exists()


def test_a_record_whose_process_is_gone_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    record = {
        "pid": int(gone.stdout), "started": 0.0, "data_dir": str(tmp_path),
        "gateway_url": "http://127.0.0.1:8080", "database_url": "postgresql://x/y",
        "redis_url": None,
    }  # fmt: skip
    record_path(tmp_path).write_text(json.dumps(record))
    assert running(tmp_path) is None
    record_path(tmp_path).write_text("{not json")
    assert running(tmp_path) is None
