"""Thin arq tasks, one per job kind, grouped by API family. Each calls a service in ``shared``."""

from worker.tasks import core, er, registry, schemas

ALL_TASKS = [*core.TASKS, *registry.TASKS, *schemas.TASKS, *er.TASKS]
