"""ER batch jobs: validate and write a staged batch of entities or relationships, helped by
helper jobs that process chunks of the same batch on any worker."""

from shared.er.batch_jobs import (
    HELPER_KIND,
    HelperRequest,
    help_batch,
    settle_ended_batch,
    upsert_batch,
)
from shared.er.batch_kinds import ENTITIES, RELATIONSHIPS, BatchRequest
from shared.jobs.runner import JobKind

KINDS = (
    JobKind(ENTITIES.job_kind, BatchRequest.from_json, upsert_batch, settle_ended_batch),
    JobKind(RELATIONSHIPS.job_kind, BatchRequest.from_json, upsert_batch, settle_ended_batch),
    JobKind(HELPER_KIND, HelperRequest.from_json, help_batch),
)
