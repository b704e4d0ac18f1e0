"""One settings object, read from the environment once (prefix ``BRICKYARD_``) and passed down."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "BRICKYARD_"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    public_url_override: str | None = None
    data_dir: Path = field(default_factory=lambda: Path("./.brickyard"))
    # Every table lives in this Postgres schema; tests give each test its own.
    database_schema: str = "public"
    queue_name: str = "brickyard:queue"
    max_body_bytes: int = 10 * 1024 * 1024
    job_timeout_s: float = 900.0
    # A running job's claim in Redis is renewed while its worker lives; a dead worker's job is
    # picked up again by another worker once this lease runs out.
    job_lease_s: float = 10.0
    job_max_tries: int = 5
    # Seconds between reconciler passes (re-enqueue accepted jobs Redis lost); 0 turns it off.
    reconcile_interval_s: float = 5.0
    worker_max_jobs: int = 10
    sync_wait_timeout_s: float = 120.0
    db_pool_max: int = 10
    log_level: str = "info"
    log_format: str = "auto"

    @property
    def public_url(self) -> str:
        if self.public_url_override:
            return self.public_url_override.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name)
            return value if value not in (None, "") else None

        defaults = cls()
        return cls(
            database_url=get("DATABASE_URL"),
            redis_url=get("REDIS_URL"),
            host=get("HOST") or defaults.host,
            port=int(get("PORT") or defaults.port),
            workers=int(get("WORKERS") or defaults.workers),
            public_url_override=get("PUBLIC_URL"),
            data_dir=Path(get("DATA_DIR") or defaults.data_dir),
            database_schema=get("DATABASE_SCHEMA") or defaults.database_schema,
            queue_name=get("QUEUE_NAME") or defaults.queue_name,
            max_body_bytes=int(get("MAX_BODY_BYTES") or defaults.max_body_bytes),
            job_timeout_s=float(get("JOB_TIMEOUT") or defaults.job_timeout_s),
            job_lease_s=float(get("JOB_LEASE") or defaults.job_lease_s),
            job_max_tries=int(get("JOB_MAX_TRIES") or defaults.job_max_tries),
            reconcile_interval_s=float(get("RECONCILE_INTERVAL") or defaults.reconcile_interval_s),
            worker_max_jobs=int(get("WORKER_MAX_JOBS") or defaults.worker_max_jobs),
            sync_wait_timeout_s=float(get("SYNC_WAIT_TIMEOUT") or defaults.sync_wait_timeout_s),
            db_pool_max=int(get("DB_POOL_MAX") or defaults.db_pool_max),
            log_level=(get("LOG_LEVEL") or defaults.log_level).lower(),
            log_format=(get("LOG_FORMAT") or defaults.log_format).lower(),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes a child process read back these same settings."""
        values: dict[str, object | None] = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "HOST": self.host,
            "PORT": self.port,
            "WORKERS": self.workers,
            "PUBLIC_URL": self.public_url_override,
            "DATA_DIR": self.data_dir,
            "DATABASE_SCHEMA": self.database_schema,
            "QUEUE_NAME": self.queue_name,
            "MAX_BODY_BYTES": self.max_body_bytes,
            "JOB_TIMEOUT": self.job_timeout_s,
            "JOB_LEASE": self.job_lease_s,
            "JOB_MAX_TRIES": self.job_max_tries,
            "RECONCILE_INTERVAL": self.reconcile_interval_s,
            "WORKER_MAX_JOBS": self.worker_max_jobs,
            "SYNC_WAIT_TIMEOUT": self.sync_wait_timeout_s,
            "DB_POOL_MAX": self.db_pool_max,
            "LOG_LEVEL": self.log_level,
            "LOG_FORMAT": self.log_format,
        }
        return {PREFIX + k: str(v) for k, v in values.items() if v is not None}
