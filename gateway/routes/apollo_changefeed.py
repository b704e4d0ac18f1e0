"""Apollo change feed: ``GET /apollo/changefeed/logs`` in pages, or as a live Server-Sent Events
stream when the client accepts ``text/event-stream`` (resumable with ``Last-Event-ID``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from gateway.http import apollo_response, page_asked, principal, requires_scope, services
from gateway.keys import REDIS, SETTINGS
from gateway.limits import STREAMS, send
from shared.changefeed import events, query, store
from shared.changefeed.wakeups import FeedKeeper, FeedWaker
from shared.er.access import ErCollection, ErCollections, Role
from shared.errors import BadRequest, Forbidden, NotFound, Unauthorized
from shared.outages import outage_of

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
WAKER = web.AppKey("feed_waker", FeedWaker)
BATCH = 500
KEEP_ALIVE_S = 15
EVENT_STREAM = "text/event-stream"


async def changefeed_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    waker = FeedWaker(app[REDIS], settings.queue_name)
    keeper = FeedKeeper(settings, app[REDIS], settings.changefeed_retention_s)
    await waker.start()
    await keeper.start()
    app[WAKER] = waker
    yield
    await keeper.stop()
    await waker.stop()


async def feed_collection(request: web.Request) -> ErCollection:
    """The ``erCollectionId`` header (or query parameter), readable by the caller."""
    name = request.headers.get("ercollectionid") or query.lowered(request.query).get(
        "ercollectionid"
    )
    if not name:
        raise BadRequest("erCollectionId header is required")
    found = ErCollections(services(request).pool)
    return await found.require(principal(request).id, name, Role.readonly)


@routes.get("/apollo/changefeed/logs")
@requires_scope("apollo_read")
async def changefeed_logs(request: web.Request) -> web.StreamResponse:
    """The change feed of an ER collection, from a sequence id, in pages

    With `Accept: text/event-stream` the same route streams the events as Server-Sent Events
    as they commit (event id = sequence id; send `Last-Event-ID` to resume)."""
    target = await feed_collection(request)
    if EVENT_STREAM in request.headers.get("Accept", ""):
        return await stream(request, target)
    bounds = query.bounds(request.query)
    retention = services(request).settings.changefeed_retention_s
    pool = services(request).pool
    if bounds.start_sequence is not None:
        await store.require_retained(pool, target.id, bounds.start_sequence, retention)
    page = await page_asked(request, "changefeed", target.id, *bounds.args(), size_param="limit")
    total, rows = await store.page(pool, target.id, bounds, page.after_as(int, 0), page.fetch)
    if total == 0:
        raise NotFound("No records found")
    shown, paging = page.page(total, rows, lambda row: row.sequence_id)
    return apollo_response(
        request, [events.log_record(row, target.id) for row in shown], paging=paging
    )


async def stream(request: web.Request, target: ErCollection) -> web.StreamResponse:
    pool, settings = services(request).pool, services(request).settings
    after = query.stream_start(request.headers.get("Last-Event-ID"), request.query)
    if after is None:
        after = (await store.counter(pool, target.id)).last_sequence
    else:
        await store.require_retained(pool, target.id, after + 1, settings.changefeed_retention_s)
    response = web.StreamResponse(
        headers={
            "Content-Type": EVENT_STREAM,
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # proxies must not hold events back
        }
    )
    # Watch before the first read: a change committed in between wakes the loop at once.
    slots, watched = request.app[STREAMS], request.app[WAKER].watch(target.id)
    with slots.hold(principal(request).id), watched as woken:
        await response.prepare(request)
        try:
            await send(response, b"retry: 2000\n\n", settings.write_timeout_s)
            await _follow(request, response, target.id, after, woken)
        except ConnectionResetError:
            pass  # the client went away mid-write
        except TimeoutError:
            # It takes no events: drop the connection rather than wait on it at write_eof.
            log.info("change feed client stopped reading", collection=target.id)
            if request.transport is not None:
                request.transport.abort()
        except Exception as exc:  # headers are sent: end the stream, the client resumes
            if outage_of(exc) is None:
                log.exception("change feed stream failed", collection=target.id)
            else:
                log.warning("change feed stream ended by an outage", error=str(exc))
    return response


async def still_allowed(request: web.Request, collection_id: str) -> bool:
    """Whether the stream's token still reads the collection: access is checked again every
    ``changefeed_recheck_s`` while a stream is open, as a new request would check it."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        caller = await services(request).auth.authenticate(
            token.strip() if scheme.lower() == "bearer" else None
        )
        caller.require_scope("apollo_read")
        await ErCollections(services(request).pool).require(caller.id, collection_id, Role.readonly)
    except (Unauthorized, Forbidden, NotFound):
        return False
    return True


async def _follow(
    request: web.Request,
    response: web.StreamResponse,
    collection_id: str,
    after: int,
    woken: asyncio.Event,
) -> None:
    pool, settings = services(request).pool, services(request).settings
    recheck_s, write_timeout_s = settings.changefeed_recheck_s, settings.write_timeout_s
    checked, idle = time.monotonic(), 0
    while True:
        if time.monotonic() - checked >= recheck_s:
            if not await still_allowed(request, collection_id):
                return  # revoked, expired, or no longer a reader: the stream ends
            checked = time.monotonic()
        woken.clear()
        rows = await store.events_after(pool, collection_id, after, BATCH)
        for row in rows:
            await send(response, events.sse_frame(row, collection_id), write_timeout_s)
            after, idle = row.sequence_id, 0
        if len(rows) == BATCH:
            continue
        while not woken.is_set():
            if request.transport is None or request.transport.is_closing():
                return  # the client went away
            if time.monotonic() - checked >= recheck_s:
                break
            try:
                await asyncio.wait_for(woken.wait(), min(1.0, recheck_s))
            except TimeoutError:
                idle += 1
                if idle >= KEEP_ALIVE_S:  # a comment keeps proxies from closing the stream
                    await send(response, b": keep-alive\n\n", write_timeout_s)
                    idle = 0
