"""Release bundles: the namespace-free description of one schema release, and its normal form.

A bundle (what ``POST /apollo/schema/releases`` accepts, and what the Brick reader produces)::

    {"releaseLine": "acme", "version": "1.0", "tags": ["Air", ...],
     "entitytypes": [{"name": "AHU", "parents": ["HVAC_Equipment"], "tags": ["AHU"],
                      "label": "AHU", "definition": "...", "deprecated": false,
                      "topClass": "Equipment"}, ...],
     "relationshiptypes": [{"relation": "feeds", "inverse": "isFedBy", "definition": "...",
                            "pairs": [{"source": "Equipment", "destination": "Equipment"}]}]}

Normalising computes each entity type's ancestors and top class, and groups each relation's
pairs into one relationship type per (relation, source top class, destination top class),
named ``feeds_Equipment_Equipment``. An entry that cannot be made into a valid schema (a bad
name, an unknown parent or pair class, a parent cycle) is kept with an ``error``: the sync
reports it as failed. A malformed bundle as a whole is refused with 400.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from typing import Any

from shared.errors import BadRequest

TOP_CLASSES = ("Point", "Equipment", "Location", "System", "Collection", "Measurable")
# Brick class names hold dots and dashes too (PM2.5_Sensor, Pre-Cooling_Air_Unit). Each pattern
# is used with fullmatch: with match, '$' would let a trailing newline through.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,199}$")
LINE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
MAX_ENTRIES = 20000
# Bounds that keep normalising a bundle linear in its size (Brick 1.5: at most 5 parents and 13
# ancestors per class, 42 pairs per relation).
MAX_PARENTS = 16
MAX_ANCESTORS = 128
MAX_PAIRS = 1000


def content_sha256(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _names(value: Any) -> list[str] | None:
    """A list of strings, or None when the value is not one."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def check_shape(bundle: Any) -> None:
    """Refuse (400) a bundle whose overall shape is wrong; single bad entries are kept."""
    if not isinstance(bundle, dict):
        raise BadRequest("A release bundle must be a JSON object")
    for key, pattern in (("releaseLine", LINE), ("version", VERSION)):
        if not isinstance(bundle.get(key), str) or not pattern.fullmatch(bundle[key]):
            raise BadRequest(f"'{key}' is required and must match {pattern.pattern}")
    for key in ("entitytypes", "relationshiptypes"):
        entries = bundle.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise BadRequest(f"'{key}' must be a list of objects")
        if len(entries) > MAX_ENTRIES:
            raise BadRequest(f"'{key}' holds more than {MAX_ENTRIES} entries")
    names = [e.get("name") for e in bundle.get("entitytypes", [])]
    if not all(isinstance(n, str) for n in names):
        raise BadRequest("Every entity type needs a 'name' (a string)")
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise BadRequest(f"Entity type names repeat: {', '.join(duplicates[:10])}")
    relations = [e.get("relation") for e in bundle.get("relationshiptypes", [])]
    if not all(isinstance(r, str) for r in relations):
        raise BadRequest("Every relationship type needs a 'relation' (a string)")
    if _names(bundle.get("tags")) is None:
        raise BadRequest("'tags' must be a list of strings")


def normalise(bundle: dict[str, Any]) -> dict[str, Any]:
    check_shape(bundle)
    entities = _normalise_entities(bundle.get("entitytypes", []))
    relations = _group_relations(bundle.get("relationshiptypes", []), entities)
    tags = set(bundle.get("tags") or [])
    tags |= {t for e in entities.values() for t in e.get("tags", [])}
    return {
        "releaseLine": bundle["releaseLine"],
        "version": bundle["version"],
        "tags": sorted(tags),
        "entitytypes": [entities[name] for name in sorted(entities)],
        "relationshiptypes": sorted(relations, key=lambda r: r["name"]),
    }


def _entity_error(entry: dict[str, Any]) -> str | None:
    if not NAME.fullmatch(entry["name"]):
        return f"entity type name '{entry['name']}' must match {NAME.pattern}"
    if _names(entry.get("parents")) is None or _names(entry.get("tags")) is None:
        return "'parents' and 'tags' must be lists of strings"
    if len(set(entry.get("parents") or [])) > MAX_PARENTS:
        return f"at most {MAX_PARENTS} parents"
    for key in ("label", "definition", "topClass", "replacedBy"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"'{key}' must be a string"
    if not isinstance(entry.get("deprecated", False), bool):
        return "'deprecated' must be true or false"
    return None


def _normalise_entities(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for entry in entries:
        name = entry["name"]
        error = _entity_error(entry)
        if error:
            result[name] = {"name": name, "error": error}
            continue
        result[name] = {
            "name": name,
            "label": _text(entry, "label") or name.replace("_", " "),
            "parents": sorted(set(entry.get("parents") or [])),
            "tags": sorted(set(entry.get("tags") or [])),
            "definition": _text(entry, "definition"),
            "deprecated": bool(entry.get("deprecated", False)),
        }
        if _text(entry, "replacedBy"):
            result[name]["replacedBy"] = entry["replacedBy"]
        if _text(entry, "topClass"):
            result[name]["topClass"] = entry["topClass"]
    for name in _on_cycles(result):
        result[name] = {"name": name, "error": "its parents form a cycle"}
    ancestors = _ancestors(result)
    for name, entry in result.items():
        if "error" not in entry:
            entry["ancestors"] = sorted(ancestors[name])
            entry.setdefault("topClass", _top_class(name, ancestors[name], result))
    return result


def _parents_graph(entities: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Valid entries -> their parents that are valid entries too."""
    return {
        name: [p for p in entry["parents"] if "error" not in entities.get(p, {"error": 1})]
        for name, entry in entities.items()
        if "error" not in entry
    }


def _on_cycles(entities: dict[str, dict[str, Any]]) -> set[str]:
    """Entries on a cycle of parents (Tarjan's strongly connected components, iteratively)."""
    graph = _parents_graph(entities)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cyclic: set[str] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in graph:
        if root in index:
            continue
        visit(root)
        work = [(root, iter(graph[root]))]
        while work:
            node, parents = work[-1]
            for parent in parents:
                if parent not in index:
                    visit(parent)
                    work.append((parent, iter(graph[parent])))
                    break
                if parent in on_stack:
                    low[node] = min(low[node], index[parent])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    if len(component) > 1 or node in graph[node]:
                        cyclic.update(component)
    return cyclic


def _ancestors(entities: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Each valid entry's ancestors, parents first (no cycles are left). An entry under an
    invalid parent, or with more than MAX_ANCESTORS ancestors, is made invalid (in place)."""
    found: dict[str, set[str]] = {}
    done: set[str] = set()
    for root in entities:
        stack = [root]
        while stack:
            name = stack[-1]
            entry = entities[name]
            if name in done or "error" in entry:
                done.add(name)
                stack.pop()
                continue
            pending = [p for p in entry["parents"] if p in entities and p not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            done.add(name)
            bad = [p for p in entry["parents"] if "error" in entities.get(p, {"error": 1})]
            if bad:
                error = f"unknown or invalid parent(s): {', '.join(bad)}"
                entities[name] = {"name": name, "error": error}
                continue
            lineage: set[str] = set()
            for parent in entry["parents"]:
                lineage.add(parent)
                lineage.update(found[parent])
                if len(lineage) > MAX_ANCESTORS:
                    entities[name] = {"name": name, "error": f"more than {MAX_ANCESTORS} ancestors"}
                    break
            else:
                found[name] = lineage
    return found


def _top_class(name: str, ancestors: set[str], entities: dict[str, dict[str, Any]]) -> str:
    """The first Brick top class in its lineage, else the root of its hierarchy."""
    tops = [t for t in TOP_CLASSES if t in ancestors or t == name]
    roots = sorted(a for a in ancestors if not entities[a].get("parents"))
    return (tops or roots or [name])[0]


def _group_relations(
    entries: list[dict[str, Any]], entities: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One relationship type per (relation, source top, destination top), pairs minimised."""
    grouped: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
    definitions: dict[str, str | None] = {}
    inverses: dict[str, str | None] = {}
    failed: list[dict[str, Any]] = []
    for entry in entries:
        relation, pairs = entry["relation"], entry.get("pairs", [])
        definitions[relation] = _text(entry, "definition")
        inverses[relation] = _text(entry, "inverse")
        error = _relation_error(relation, pairs, entities)
        if error:
            failed.append({"name": relation, "error": error})
            continue
        for pair in pairs:
            source, destination = entities[pair["source"]], entities[pair["destination"]]
            key = (relation, source["topClass"], destination["topClass"])
            grouped[key].add((pair["source"], pair["destination"]))
    result = failed
    for (relation, source_top, destination_top), pairs in grouped.items():
        if len(pairs) > MAX_PAIRS:
            name = f"{relation}_{source_top}_{destination_top}"
            result.append({"name": name, "error": f"more than {MAX_PAIRS} pairs"})
            continue
        minimal = _minimal_pairs(pairs, entities)
        result.append(
            {
                "name": f"{relation}_{source_top}_{destination_top}",
                "relation": relation,
                "source": source_top,
                "destination": destination_top,
                "definition": definitions.get(relation),
                "pairs": [{"source": s, "destination": d} for s, d in sorted(minimal)],
                # Only when the release names one, so bundles without inverses keep their form.
                **({"inverse": inverses[relation]} if inverses.get(relation) else {}),
            }
        )
    return result


def _relation_error(relation: str, pairs: Any, entities: dict[str, dict[str, Any]]) -> str | None:
    if not NAME.fullmatch(relation):
        return f"relation name '{relation}' must match {NAME.pattern}"
    if not isinstance(pairs, list) or not pairs:
        return "'pairs' must be a non-empty list of {source, destination} objects"
    if len(pairs) > MAX_PAIRS:
        return f"at most {MAX_PAIRS} pairs per relation"
    for pair in pairs:
        if not isinstance(pair, dict) or not all(
            isinstance(pair.get(k), str) for k in ("source", "destination")
        ):
            return "each pair must be an object with 'source' and 'destination' strings"
        unknown = [
            pair[k]
            for k in ("source", "destination")
            if "error" in entities.get(pair[k], {"error": 1})
        ]
        if unknown:
            return f"pair ({pair['source']}, {pair['destination']}) names unknown entity type(s): {', '.join(unknown)}"
    return None


def _minimal_pairs(
    pairs: set[tuple[str, str]], entities: dict[str, dict[str, Any]]
) -> set[tuple[str, str]]:
    """Drop a pair another pair already admits (a pair admits subclasses of its classes)."""

    lineage = {
        name: {name, *entities[name].get("ancestors", [])} for pair in pairs for name in pair
    }
    return {
        (s, d)
        for s, d in pairs
        if not any((s2, d2) != (s, d) and s2 in lineage[s] and d2 in lineage[d] for s2, d2 in pairs)
    }
