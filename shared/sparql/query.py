"""One read-only SPARQL query: what is refused before it runs, its evaluation with a time and
a result limit (in a query process, :mod:`shared.sparql.replica`), and its results as SPARQL
JSON, CSV or N-Triples."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from shared.errors import BadRequest

TIME_LIMIT_S = 10.0
MAX_RESULTS = 10000
MAX_NESTING = 64
JSON_RESULTS = "application/sparql-results+json"
CSV_RESULTS = "text/csv"
N_TRIPLES = "application/n-triples"
SERVICE_REFUSED = "SERVICE (a federated query) is not supported by this endpoint"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
# An update's first keyword after the prologue (PREFIX / BASE declarations).
_PROLOGUE = r"(?:\s*(?:#[^\n]*\n|PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s+<[^>]*>))*"
_UPDATE = re.compile(
    _PROLOGUE + r"\s*(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE
)
PREFIXES = {
    "brick": "https://brickschema.org/schema/Brick#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
}


class LimitExceeded(BadRequest):
    """A query over its time or result limit (the query's cost, so a 4xx naming the limit)."""


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str  # "solutions", "boolean" or "triples"
    variables: list[str]
    rows: list[Any]
    boolean: bool | None = None


# pyoxigraph would answer SERVICE by calling the URL it names. What keeps it from doing so is
# the query process's sandbox, which refuses every socket (shared/sparql/sandbox.py); this look
# at the text only answers the common forms early with a clear message. The keyword is looked
# for outside comments, strings and IRIs, so that a string holding the word refuses nothing.
_SCRUB = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\s]*>|#[^\n]*"
)
_SERVICE = re.compile(r"(?<![?$\w:])SERVICE(?![\w:-])", re.IGNORECASE)


def refuse_updates(text: str) -> None:
    """Updates and federated queries (SERVICE) are refused before evaluation."""
    match = _UPDATE.match(text)
    if match:
        raise BadRequest(
            f"This endpoint is read-only: SPARQL update ({match.group(1).upper()}) is refused"
        )
    if _SERVICE.search(_SCRUB.sub(" ", text)):
        raise BadRequest(SERVICE_REFUSED)


def refuse_deep_nesting(text: str) -> None:
    """pyoxigraph's parser recurses once per nested group, and a few thousand levels overflow
    its stack. Brackets are counted in the raw text, strings included: it errs on refusing."""
    depth = deepest = 0
    for char in text:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
    if deepest > MAX_NESTING:
        raise BadRequest(
            f"The query nests groups, lists or brackets {deepest} deep; at most {MAX_NESTING}"
        )


def check(text: str) -> None:
    """What is refused before a query reaches a query process."""
    refuse_updates(text)
    refuse_deep_nesting(text)


def evaluate(
    store: ox.Store, text: str, dataset: list[ox.NamedNode], prefixes: dict[str, str],
    timeout_s: float, limit: int,
) -> Answer:  # fmt: skip
    """The query's answer, or :class:`LimitExceeded` at the first solution past the time or
    result limit (the gateway also kills a process whose query is stuck between solutions)."""
    deadline = time.monotonic() + timeout_s
    try:
        graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [*dataset]
        result = store.query(text, default_graph=graphs, named_graphs=[], prefixes=prefixes)
    except SyntaxError as exc:
        raise BadRequest(f"The SPARQL query does not parse: {exc}") from exc
    except ValueError as exc:  # e.g. a lone surrogate, which is not UTF-8
        raise BadRequest(f"The SPARQL query cannot be read: {exc}") from exc
    except OSError as exc:  # an evaluation error pyoxigraph reports (e.g. a bad regex)
        raise _failure(exc) from exc
    if isinstance(result, ox.QueryBoolean):
        return Answer("boolean", [], [], bool(result))
    kind = "solutions" if isinstance(result, ox.QuerySolutions) else "triples"
    variables = [v.value for v in result.variables] if isinstance(result, ox.QuerySolutions) else []
    rows: list[Any] = []
    try:
        for row in result:
            if time.monotonic() > deadline:
                raise LimitExceeded(time_limit_message(timeout_s))
            rows.append(list(row) if kind == "solutions" else row)
            if len(rows) > limit:
                raise LimitExceeded(
                    f"The query has more than {limit} results; add LIMIT (and OFFSET to page)"
                )
    except OSError as exc:
        raise _failure(exc) from exc
    except RuntimeError as exc:  # an evaluation error pyoxigraph raises as it goes
        raise BadRequest(f"The SPARQL query failed: {exc}") from exc
    return Answer(kind, variables, rows)


def _failure(exc: OSError) -> BadRequest:
    # The only socket() a query process tries is a SERVICE clause's, and its sandbox refuses it.
    if isinstance(exc, PermissionError):
        return BadRequest(SERVICE_REFUSED)
    return BadRequest(f"The SPARQL query failed: {exc}")


def time_limit_message(timeout_s: float) -> str:
    return f"The query ran over its time limit of {timeout_s:g} s; narrow it, or add LIMIT"


def render(answer: Answer, result_format: str) -> tuple[str, str]:
    """The answer's body and media type: N-Triples for triples, else JSON or CSV."""
    if answer.kind == "triples":
        return as_ntriples(answer), N_TRIPLES
    if result_format == CSV_RESULTS:
        return as_csv(answer), CSV_RESULTS
    return as_json(answer), JSON_RESULTS


def _term_json(term: Any) -> dict[str, str] | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        found = {"type": "literal", "value": term.value}
        if term.language:
            found["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            found["datatype"] = term.datatype.value
        return found
    return {"type": "literal", "value": str(term)}  # an RDF-star triple


def as_json(answer: Answer) -> str:
    """SPARQL 1.1 Query Results JSON."""
    if answer.kind == "boolean":
        return json.dumps({"head": {}, "boolean": answer.boolean})
    bindings = []
    for row in answer.rows:
        values = {v: _term_json(t) for v, t in zip(answer.variables, row, strict=True)}
        bindings.append({v: t for v, t in values.items() if t is not None})
    return json.dumps({"head": {"vars": answer.variables}, "results": {"bindings": bindings}})


def _term_csv(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value if hasattr(term, "value") else str(term)


def as_csv(answer: Answer) -> str:
    """SPARQL 1.1 Query Results CSV (values only: IRIs and lexical forms)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if answer.kind == "boolean":
        writer.writerows([["boolean"], [str(answer.boolean).lower()]])
        return out.getvalue()
    writer.writerow(answer.variables)
    for row in answer.rows:
        writer.writerow([_term_csv(t) for t in row])
    return out.getvalue()


def as_ntriples(answer: Answer) -> str:
    return "".join(f"{triple} .\n" for triple in answer.rows)
