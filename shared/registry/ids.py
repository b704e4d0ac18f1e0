"""Schema ``$id`` grammar: ``<organization name>-<schema name>[-<semantic version>]``.

Organization and schema names are dot-separated alphanumeric parts, each starting with a
letter; the semantic version follows https://semver.org. Every error says which part of the
text is wrong, since that is what an author needs to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import BadRequest

ID_GRAMMAR = "<organization name>-<schema name>[-<semantic version>]"
ORGANIZATION_NAME_MIN = 6
ORGANIZATION_NAME_MAX = 250
RESERVED_NAME = "sagebionetwork"

_ALNUM_PART = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_BAD_CHARACTER = re.compile(r"[^A-Za-z0-9]")
_NUMERIC = r"0|[1-9]\d*"
_PRE_RELEASE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
SEMVER = re.compile(
    rf"^(?:{_NUMERIC})\.(?:{_NUMERIC})\.(?:{_NUMERIC})"
    rf"(?:-{_PRE_RELEASE_ID}(?:\.{_PRE_RELEASE_ID})*)?"
    rf"(?:\+{_BUILD_ID}(?:\.{_BUILD_ID})*)?$",
    re.ASCII,  # \d is 0-9 only: a full-width digit makes no version
)


@dataclass(frozen=True, slots=True)
class SchemaId:
    organization: str
    name: str
    semantic_version: str | None = None

    def __str__(self) -> str:
        base = f"{self.organization}-{self.name}"
        return f"{base}-{self.semantic_version}" if self.semantic_version else base


def relative_id(text: str) -> str:
    """Clients may send ``<base>/schema/type/registered/<id>``: the id is the last segment."""
    return text.rpartition("/")[2]


def dotted_name_problem(value: str, what: str) -> str | None:
    """Why ``value`` is not a dot-separated alphanumeric name, or None when it is one."""
    if not value:
        return f"the {what} is empty"
    for part in value.split("."):
        if not part:
            return f"the {what} '{value}' has an empty part (a leading, trailing or doubled '.')"
        if not part[0].isascii() or not part[0].isalpha():
            return f"the {what} '{value}' has a part '{part}' that does not start with a letter"
        bad = _BAD_CHARACTER.search(part)
        if bad:
            return (
                f"the {what} '{value}' has a part '{part}' containing '{bad.group()}'; "
                "only letters and digits are allowed, with '.' between parts"
            )
    return None


def semver_problem(version: str) -> str | None:
    """Why ``version`` is not a semantic version, or None when it is one."""
    if SEMVER.fullmatch(version):  # not match(): '$' would let a trailing newline through
        return None
    core = re.split(r"[-+]", version)[0]
    numbers = core.split(".")
    if len(numbers) != 3 or not all(n.isascii() and n.isdigit() for n in numbers):
        return (
            f"the semantic version '{version}' must start with MAJOR.MINOR.PATCH, three numbers "
            "separated by '.' (see https://semver.org)"
        )
    for number in numbers:
        if len(number) > 1 and number.startswith("0"):
            return f"the semantic version '{version}' has a leading zero in '{number}'"
    return (
        f"the pre-release or build part of the semantic version '{version}' is invalid: "
        "its identifiers are letters, digits and '-', separated by '.', and numeric "
        "pre-release identifiers have no leading zeros"
    )


def parse_schema_id(text: object, label: str = "$id") -> SchemaId:
    """Parse an ``$id`` (or a ``$ref``, with ``label`` saying which) or raise a 400."""
    if not isinstance(text, str):
        raise BadRequest(f"The {label} must be a string")
    value = relative_id(text.strip())
    organization, dash, rest = value.partition("-")
    problem = dotted_name_problem(organization, "organization name")
    if problem is None and not dash:
        problem = "there is no '-' between the organization name and the schema name"
    name, dash, version = rest.partition("-")
    if problem is None:
        problem = dotted_name_problem(name, "schema name")
    if problem is None and dash and not version:
        problem = "it ends with '-' but no semantic version follows"
    if problem is None and version:
        problem = semver_problem(version)
    if problem is not None:
        raise BadRequest(f"Invalid {label} '{text}': {problem}. Expected {ID_GRAMMAR}")
    return SchemaId(organization, name, version or None)


def validate_organization_name(name: object) -> str:
    """The trimmed organization name, or a 400 saying what is wrong with it."""
    if not isinstance(name, str):
        raise BadRequest("organizationName is required and must be a string")
    name = name.strip()
    problem = dotted_name_problem(name, "organization name")
    if problem is not None:
        raise BadRequest(f"Invalid organizationName: {problem}")
    if not ORGANIZATION_NAME_MIN <= len(name) <= ORGANIZATION_NAME_MAX:
        raise BadRequest(
            f"Organization name must be {ORGANIZATION_NAME_MIN} to {ORGANIZATION_NAME_MAX} "
            f"characters; '{name}' has {len(name)}"
        )
    if RESERVED_NAME in name.lower():
        raise BadRequest(
            "The name 'sagebionetworks' is reserved, and cannot be included in an "
            "Organization's name"
        )
    return name
