"""Why an import cannot finish, with the exit code the command ends with."""

from __future__ import annotations

# 0: every item has a final state (some may have failed: see --failures).
CANNOT_FINISH = 1  # the server is unreachable, refused the token, or refused a batch
BAD_INPUT = 2  # the input cannot be read or a line is malformed


class ImportStopped(Exception):
    exit_code = CANNOT_FINISH

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(ImportStopped):
    exit_code = BAD_INPUT
