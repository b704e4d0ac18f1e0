"""The release catalog: which releases exist, and each one's normalised bundle, generated once.

Release lines: ``brick`` is built in (the versions the installed brickschema package ships);
any other line holds the releases administrators published. A Brick bundle is looked up in
this process's memory, then in the ``schema_releases`` table, then in an on-disk cache under
the data directory, and only then generated from Brick.ttl (seconds of CPU, in a thread), so
parsing happens once per database and source file, not per request or per sync.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from shared.db import Executor
from shared.errors import BadRequest, Conflict
from shared.releases import bundle as bundles
from shared.releases import store
from shared.releases.rows import ReleaseRow

log = structlog.get_logger(__name__)

BRICK_LINE = "brick"
LATEST = "latest"
# Part of every Brick bundle's cache key: bump it when the reader or normaliser changes output.
GENERATOR_VERSION = "brickyard-brick-reader/3"

# (line, version, source sha256) -> normalised bundle, shared by everything in this process.
_MEMORY: dict[tuple[str, str, str], dict[str, Any]] = {}
# One generation at a time per release in this process (locks belong to their event loop).
_GENERATING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
_FILE_SHA: dict[tuple[Path, float], str] = {}


def version_key(version: str) -> tuple[Any, ...]:
    """Order versions numerically where they are numbers (1.10 after 1.9)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


def brick_files() -> dict[str, Path]:
    """Brick.ttl of each version the installed brickschema ships (found without importing it)."""
    spec = importlib.util.find_spec("brickschema")
    if spec is None or not spec.submodule_search_locations:
        return {}
    root = Path(next(iter(spec.submodule_search_locations))) / "ontologies"
    found = {d.name: d / "Brick.ttl" for d in root.iterdir() if (d / "Brick.ttl").is_file()}
    return dict(sorted(found.items(), key=lambda item: version_key(item[0])))


def brick_source_sha256(path: Path) -> str:
    key = (path, path.stat().st_mtime)
    if key not in _FILE_SHA:
        digest = hashlib.sha256(GENERATOR_VERSION.encode())
        digest.update(path.read_bytes())
        _FILE_SHA[key] = digest.hexdigest()
    return _FILE_SHA[key]


def summary(row: ReleaseRow | None, line: str, version: str) -> dict[str, Any]:
    base: dict[str, Any] = {"releaseLine": line, "version": version}
    if row is None:
        return {**base, "origin": "builtin", "generated": False}
    return {
        **base,
        "origin": row.origin,
        "generated": True,
        "entitytypes": row.entity_type_count,
        "relationshiptypes": row.relationship_type_count,
        "tags": len(row.tags),
        "sourceSha256": row.source_sha256,
        "createdOn": row.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


@dataclass(slots=True)
class ReleaseCatalog:
    db: Executor
    cache_dir: Path | None = None

    async def versions(self, line: str) -> list[str]:
        if line == BRICK_LINE:
            return list(brick_files())
        return sorted(await store.published_versions(self.db, line), key=version_key)

    async def resolve(self, line: str, version: str | None) -> str:
        """A version of the line: the one named, or the newest for None and 'latest' (400)."""
        versions = await self.versions(line)
        if not versions:
            raise BadRequest(f"Release line '{line}' has no releases")
        if version is None or version == LATEST:
            return versions[-1]
        if version not in versions:
            raise BadRequest(
                f"Release line '{line}' has no version '{version}'; it has {', '.join(versions)}"
            )
        return version

    async def tags(self, line: str, version: str) -> list[str] | None:
        """The tag vocabulary of a release already in the catalog (None: not generated yet)."""
        row = await store.release(self.db, line, version)
        return list(row.tags) if row else None

    async def list(self) -> list[dict[str, Any]]:
        rows = {(r.release_line, r.version): r for r in await store.releases(self.db)}
        listed = [summary(rows.pop((BRICK_LINE, v), None), BRICK_LINE, v) for v in brick_files()]
        listed += [summary(row, line, version) for (line, version), row in rows.items()]
        return sorted(listed, key=lambda r: (r["releaseLine"], version_key(r["version"])))

    async def load(self, line: str, version: str) -> dict[str, Any]:
        """The normalised bundle of a release (generated and stored on first use for Brick)."""
        if line != BRICK_LINE:
            row = await store.release(self.db, line, version)
            if row is None:
                raise BadRequest(f"Release line '{line}' has no version '{version}'")
            return await self._from_database(line, version, row.source_sha256)
        path = brick_files().get(version)
        if path is None:
            raise BadRequest(f"Brick {version} is not shipped by the installed brickschema")
        sha = await asyncio.to_thread(brick_source_sha256, path)
        row = await store.release(self.db, line, version)
        if row is not None and row.source_sha256 == sha:
            return await self._from_database(line, version, sha)
        locks = _GENERATING.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault((line, version), asyncio.Lock()):
            row = await store.release(self.db, line, version)
            if row is not None and row.source_sha256 == sha:
                return await self._from_database(line, version, sha)
            generated = _MEMORY.get((line, version, sha)) or self._from_disk(line, version, sha)
            if generated is None:
                log.info("generating release", release_line=line, version=version)
                generated = await asyncio.to_thread(_generate_brick, path, version)
                self._to_disk(line, version, sha, generated)
            await self._store(generated, "builtin", sha, None)
            _MEMORY[(line, version, sha)] = generated
            return generated

    async def publish(self, raw: Any, principal_id: int) -> tuple[dict[str, Any], bool]:
        """Store an administrator's release; (summary, created). Releases are immutable."""
        bundles.check_shape(raw)
        if raw["releaseLine"] == BRICK_LINE:
            raise BadRequest(f"Release line '{BRICK_LINE}' is built in; publish under another line")
        normalised = bundles.normalise(raw)
        sha = bundles.content_sha256(normalised)
        existing = await store.release(self.db, raw["releaseLine"], raw["version"])
        if existing is not None:
            if existing.source_sha256 != sha:
                raise Conflict(
                    f"Release {raw['releaseLine']} {raw['version']} exists with other content; "
                    "releases are immutable, publish a new version"
                )
            return summary(existing, raw["releaseLine"], raw["version"]), False
        await self._store(normalised, "published", sha, principal_id)
        row = await store.release(self.db, raw["releaseLine"], raw["version"])
        assert row is not None  # the upsert left a row: this one or a concurrent publisher's
        if row.source_sha256 != sha:  # another administrator won a concurrent publish
            raise Conflict(f"Release {raw['releaseLine']} {raw['version']} was just published")
        return summary(row, raw["releaseLine"], raw["version"]), True

    async def _from_database(self, line: str, version: str, sha: str) -> dict[str, Any]:
        key = (line, version, sha)
        if key not in _MEMORY:
            _MEMORY[key] = await store.bundle(self.db, line, version)
        return _MEMORY[key]

    async def _store(
        self, normalised: dict[str, Any], origin: str, sha: str, principal_id: int | None
    ) -> None:
        entity_types, relationship_types = (
            sum("error" not in e for e in normalised[kind])
            for kind in ("entitytypes", "relationshiptypes")
        )
        await store.upsert_release(
            self.db, normalised, origin, sha, entity_types, relationship_types, principal_id
        )

    def _disk_path(self, line: str, version: str, sha: str) -> Path | None:
        return self.cache_dir / f"{line}-{version}-{sha[:20]}.json" if self.cache_dir else None

    def _from_disk(self, line: str, version: str, sha: str) -> dict[str, Any] | None:
        path = self._disk_path(line, version, sha)
        try:
            return json.loads(path.read_text()) if path and path.is_file() else None
        except (OSError, ValueError):
            return None

    def _to_disk(self, line: str, version: str, sha: str, generated: dict[str, Any]) -> None:
        path = self._disk_path(line, version, sha)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(generated, separators=(",", ":")))
            partial.replace(path)  # atomic: readers never see half a file
        except OSError as exc:
            log.warning("release disk cache not written", path=str(path), error=str(exc))


def _generate_brick(path: Path, version: str) -> dict[str, Any]:
    from shared.releases.brick import read_release  # rdflib loads only where releases are built

    return bundles.normalise(read_release(path, version))


def forget_memory() -> None:
    """Drop this process's cached bundles (tests use it to prove the database cache works)."""
    _MEMORY.clear()
