"""ER batch jobs: validate and write a staged batch of entities or relationships."""

from shared.er.batches import ENTITIES, RELATIONSHIPS
from shared.er.upsert import settle_ended_batch, upsert_batch
from shared.jobs.runner import JobKind

KINDS = [
    JobKind(ENTITIES.job_kind, upsert_batch, settle_ended_batch),
    JobKind(RELATIONSHIPS.job_kind, upsert_batch, settle_ended_batch),
]
