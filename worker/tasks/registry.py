from __future__ import annotations

TASKS: list = []
