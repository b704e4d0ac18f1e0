"""Running one read-only SPARQL query with a time and a result limit, and writing its results
as SPARQL JSON, CSV or N-Triples.

pyoxigraph releases the GIL while it evaluates, so a query runs on a small thread pool and the
event loop goes on. A query cannot be interrupted inside pyoxigraph: the deadline is checked
between solutions, and a caller that waited past it is answered at once while the thread stops
at its next solution. The pool's size bounds how many such queries run at a time.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from shared.errors import BadRequest

TIME_LIMIT_S = 10.0
MAX_RESULTS = 10000
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


# pyoxigraph would answer SERVICE by calling the URL it names: a query must not make the
# gateway fetch arbitrary URLs. The keyword is looked for outside comments, strings and IRIs,
# so that neither a comment can hide it nor a string holding the word refuse a query.
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
        raise BadRequest("SERVICE (a federated query) is not supported by this endpoint")


def _evaluate(
    store: ox.Store, text: str, dataset: list[ox.NamedNode], prefixes: dict[str, str],
    deadline: float, limit: int, stop: list[bool],
) -> Answer:  # fmt: skip
    try:
        graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [*dataset]
        result = store.query(text, default_graph=graphs, named_graphs=[], prefixes=prefixes)
    except SyntaxError as exc:
        raise BadRequest(f"The SPARQL query does not parse: {exc}") from exc
    except ValueError as exc:  # e.g. a lone surrogate, which is not UTF-8
        raise BadRequest(f"The SPARQL query cannot be read: {exc}") from exc
    except OSError as exc:  # an evaluation error pyoxigraph reports (e.g. a bad regex)
        raise BadRequest(f"The SPARQL query failed: {exc}") from exc
    if isinstance(result, ox.QueryBoolean):
        return Answer("boolean", [], [], bool(result))
    kind = "solutions" if isinstance(result, ox.QuerySolutions) else "triples"
    variables = [v.value for v in result.variables] if isinstance(result, ox.QuerySolutions) else []
    rows: list[Any] = []
    problem, row = None, None
    for row in result:
        if stop[0] or time.monotonic() > deadline:
            problem = "The query ran over its time limit; narrow it, or add LIMIT"
            break
        rows.append(list(row) if kind == "solutions" else row)
        if len(rows) > limit:
            problem = f"The query has more than {limit} results; add LIMIT (and OFFSET to page)"
            break
    # pyoxigraph's result iterators must be dropped on the thread that made them.
    del result, row
    if problem is not None:
        raise LimitExceeded(problem)
    return Answer(kind, variables, rows)


async def run(
    executor: ThreadPoolExecutor,
    store: ox.Store,
    text: str,
    dataset: list[ox.NamedNode],
    prefixes: dict[str, str],
    timeout_s: float = TIME_LIMIT_S,
    limit: int = MAX_RESULTS,
) -> Answer:
    refuse_updates(text)
    stop = [False]
    deadline = time.monotonic() + timeout_s
    future = asyncio.get_running_loop().run_in_executor(
        executor, _evaluate, store, text, dataset, prefixes, deadline, limit, stop
    )
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout_s)
    except TimeoutError:
        stop[0] = True  # the thread stops at its next solution
        future.add_done_callback(lambda f: f.exception())  # nobody awaits it any more
        raise LimitExceeded(
            f"The query ran over its time limit of {timeout_s:g} s; narrow it, or add LIMIT"
        ) from None


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
