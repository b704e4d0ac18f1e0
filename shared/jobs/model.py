from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from shared.text import iso, json_value


class JobState(StrEnum):
    PROCESSING = "PROCESSING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    # Stopped at its starter's request: a state of its own, so clients can tell it from a failure.
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class JobRecord:
    token: str
    kind: str
    principal_id: int
    state: JobState
    progress_current: int
    progress_total: int
    progress_message: str
    request: Any
    # The result as stored, JSON text: parsed only where its value is needed (``result``). A
    # 10000-item batch's is about 2 MB, which GET /async/get sends on as it is.
    result_json: str | None
    error_status: int | None
    error_message: str | None
    error_details: Any
    attempts: int
    etag: str
    created_at: datetime
    started_at: datetime | None
    changed_at: datetime
    finished_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    idempotency_key: str | None
    request_sha256: str | None
    # A finished batch's item counts (from its result); None for other jobs.
    items_stored: int | None
    items_failed: int | None
    # Each attempt's worker and start (migration 035), and a crash's traceback.
    attempt_workers: list[str]
    attempt_started_at: list[datetime]
    crash_traceback: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record | Mapping[str, Any]) -> JobRecord:
        values = dict(row)
        values["state"] = JobState(values["state"])
        values["etag"] = str(values["etag"])
        return cls(**values)

    @property
    def result(self) -> Any:
        return None if self.result_json is None else json_value(self.result_json)

    @property
    def shown_state(self) -> str:
        """The state as the dashboard shows it: a batch that completed with failed items is
        told apart from a clean COMPLETE."""
        if self.state is JobState.COMPLETE and self.items_failed:
            return "COMPLETE WITH FAILURES"
        return self.state.value

    @property
    def done(self) -> bool:
        return self.state is not JobState.PROCESSING

    @property
    def runtime_ms(self) -> int:
        end = self.finished_at or self.changed_at
        return max(0, int((end - self.created_at).total_seconds() * 1000))

    def status_json(self) -> dict[str, Any]:
        """The job as a Synapse AsynchronousJobStatus, the one status shape every family uses."""
        status: dict[str, Any] = {
            "concreteType": "org.sagebionetworks.repo.model.asynch.AsynchronousJobStatus",
            "jobId": self.token,
            "jobState": self.state.value,
            "jobCanceling": self.cancel_requested and not self.done,
            "kind": self.kind,
            "startedByUserId": self.principal_id,
            "startedOn": iso(self.created_at),
            "changedOn": iso(self.changed_at),
            "progressCurrent": self.progress_current,
            "progressTotal": self.progress_total,
            "progressMessage": self.progress_message,
            "requestBody": self.request,
            "runtimeMS": self.runtime_ms,
            "etag": self.etag,
        }
        if self.state in (JobState.FAILED, JobState.CANCELLED):
            status["errorMessage"] = self.error_message
            status["errorDetails"] = self.error_details
        return status
