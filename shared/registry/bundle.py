"""The validation schema: a registered schema made self-contained, as Synapse builds it.

Every non-local ``$ref`` (transitively) is copied into the root's ``definitions`` under the
``$id`` the ``$ref`` spells, and the ``$ref`` becomes ``#/definitions/<that $id>``. A bundled
copy loses its ``$id`` and ``$schema`` (only the root is a resource); its own local refs are
re-rooted under its definitions entry so they still point into it. The root's ``$id`` is
absolute. A schema reached again while it is being bundled is a circular dependency.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.errors import BadRequest
from shared.registry.ids import SchemaId
from shared.registry.refs import ExternalRef, RefSite, external_refs, is_local, map_refs
from shared.registry.resolve import ResolvedVersion

Loader = Callable[[SchemaId, str], Awaitable[ResolvedVersion]]
DEFINITIONS = "definitions"


class _Bundler:
    def __init__(self, load: Loader) -> None:
        self._load = load
        self.definitions: dict[str, Any] = {}
        self._in_progress: set[str] = set()

    async def rewrite(
        self, body: dict[str, Any], stack: list[tuple[int, str]], local_prefix: str | None
    ) -> dict[str, Any]:
        for ref in external_refs(body):
            await self._embed(ref, stack)

        def replace(site: RefSite) -> str:
            if is_local(site.ref):
                return site.ref if local_prefix is None else local_prefix + site.ref[1:]
            return f"#/{DEFINITIONS}/{site.ref.strip().rsplit('/', 1)[-1]}"

        rewritten: dict[str, Any] = map_refs(body, replace)
        return rewritten

    async def _embed(self, ref: ExternalRef, stack: list[tuple[int, str]]) -> None:
        key = ref.key.strip()
        if key in self.definitions and key not in self._in_progress:
            return
        target = await self._load(ref.target, f"$ref '{ref.site.ref}' at {ref.site.where}")
        path = [label for _, label in stack] + [key]
        if key in self._in_progress or any(v == target.version_id for v, _ in stack):
            raise BadRequest(
                f"Schema $id: '{stack[0][1]}' has a circular dependency: {' -> '.join(path)}"
            )
        self._in_progress.add(key)
        self.definitions[key] = None  # reserves the key's place while its refs are bundled
        copy = {k: v for k, v in target.body.items() if k not in ("$id", "$schema")}
        prefix = f"#/{DEFINITIONS}/{key}"
        self.definitions[key] = await self.rewrite(copy, [*stack, (target.version_id, key)], prefix)
        self._in_progress.discard(key)


async def validation_schema(
    relative_id: str, root: ResolvedVersion, load: Loader, absolute_id: str
) -> dict[str, Any]:
    """Bundle ``root`` (named by ``relative_id``) into one schema that validates on its own."""
    bundler = _Bundler(load)
    body = await bundler.rewrite(root.body, [(root.version_id, relative_id)], None)
    body["$id"] = absolute_id
    if bundler.definitions:
        own = body.get(DEFINITIONS)
        own = dict(own) if isinstance(own, dict) else {}
        clash = sorted(set(own) & set(bundler.definitions))
        if clash:
            raise BadRequest(
                f"The schema's own definitions use the name(s) {clash}, which the bundled "
                "copies of the referenced schemas need; rename those definitions"
            )
        body[DEFINITIONS] = {**own, **bundler.definitions}
    return body
