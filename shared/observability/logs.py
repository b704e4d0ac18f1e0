"""arq's own log lines as structured ones: the job they are about, and which logger said it.

arq writes free text through the standard library (``"  0.01s → 3f2a...:selftest()"``,
``"job 3f2a... expired"``); shared.logging renders those records as JSON like our own lines,
and this processor adds the ``job_token`` (and ``job_kind``) it finds in the text, so that
every line about a job can be found by its token.
"""

from __future__ import annotations

import logging
import re

from structlog.typing import EventDict, WrappedLogger

# arq names a job by its id, or as "<id>:<function>"; Brickyard's job ids are 32 hex digits.
_JOB_REF = re.compile(r"\b([0-9a-f]{32})(?::([A-Za-z_]\w*))?")


def arq_job_fields(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    record = event_dict.get("_record")
    if not isinstance(record, logging.LogRecord) or not record.name.startswith("arq"):
        return event_dict
    found = _JOB_REF.search(str(event_dict.get("event", "")))
    if found is not None:
        event_dict.setdefault("job_token", found[1])
        if found[2]:
            event_dict.setdefault("job_kind", found[2])
    return event_dict
