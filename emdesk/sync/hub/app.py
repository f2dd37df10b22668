"""The hub over HTTP(S): a Starlette app around a ``Hub``.

  POST /v1/token      password (device registration) or refresh token -> access token
  POST /v1/push       ops -> per-op results            (Bearer access token)
  POST /v1/pull       cursor -> one page of the feed   (Bearer access token)
  POST /v1/bootstrap  snapshot + keyset -> one page    (Bearer access token)
  GET  /v1/telemetry?after=SEQ&limit=N -> one page of device events (Bearer access token)
  GET  /v1/telemetry/snapshot?head=&order=&at=&seq=&limit=&format=json|columns -> a first sync's events,
       in the log's order (format=columns: msgpack columns, emdesk.sync.columns)
  GET  /v1/health     {"ok": true, "hub_time_ms": ...}

Every request states the desktop's schema version, in the ``X-Emdesk-Schema`` header
(checked first, so a client too old to speak today's bodies still gets 426) and in the
body.  The engine is synchronous; calls run in Starlette's thread pool.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .. import protocol as p
from .engine import Hub, HubError
from .event_feed import DEFAULT_EVENT_PAGE
from .storage import StorageUnavailable

SCHEMA_HEADER = "X-Emdesk-Schema"
# Request bodies, per endpoint, enforced while the body streams in (a chunked body
# declares no length): a push of a few thousand ops is a few MB, the rest are tiny.
BODY_LIMITS = {"token": 64 * 1024, "push": 64 * 1024 * 1024, "pull": 64 * 1024, "bootstrap": 64 * 1024,
               "audit": 64 * 1024, "telemetry": 1024, "snapshot": 1024}
log = logging.getLogger("emdesk.hub")


def _json(body, status: int = 200) -> Response:
    if isinstance(body, p.EventColumns):
        return Response(msgspec.msgpack.encode(body), status_code=status, media_type=p.COLUMNS_MEDIA)
    return Response(p.encode(body), status_code=status, media_type="application/json")


def _error(hub: Hub, exc: HubError) -> Response:
    response = _json(p.ErrorBody(error=exc.code, message=exc.message, hub_time_ms=exc.hub_time_ms or hub.now_ms()),
                     exc.status)
    if exc.retry_after_s:
        response.headers["Retry-After"] = str(exc.retry_after_s)
    if exc.status == 413:
        response.headers["Connection"] = "close"     # the rest of the body is not read
    return response


def _too_large(limit: int) -> HubError:
    return HubError(413, "too_large", f"The request is larger than the hub accepts here ({limit // 1024} KiB): "
                    "send fewer changes at a time.")


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` bytes, declared or not."""
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > limit:
        raise _too_large(limit)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _too_large(limit)
    return bytes(raw)


def _whole(request: Request, name: str, default: int) -> int:
    """A query parameter that must be a whole number of at most 18 ASCII digits."""
    text = request.query_params.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise HubError(400, "bad_request", f"query parameter {name!r} must be a whole number, 0 or more "
                       f"(got {text[:40]!r})")
    return int(text)


def _refuse_nul(raw: bytes, body) -> None:
    """No id, name or stamp ever holds a NUL character, and PostgreSQL's text cannot (the
    statement would fail, and the desktop send the same request again for ever)."""
    # Decoded JSON holds a NUL only where the text has the escape: most requests skip the walk.
    if b"\\u0000" in raw:
        # An op's payload is checked with the op (``Push``): one bad record refuses only itself.
        where = p.nul_at(body, skip={(p.Op, "payload")})
        if where:
            raise HubError(400, "bad_request", f"{where} contains a NUL character (U+0000), which the hub does not "
                           "accept: remove it and send again")


def create_app(hub: Hub, *, gc_interval_s: float = 0.0, body_limits: dict[str, int] | None = None) -> Starlette:
    """The ASGI app.  ``gc_interval_s`` > 0 runs ``hub.gc()`` that often in the background;
    ``body_limits`` overrides entries of ``BODY_LIMITS``."""
    limits = {**BODY_LIMITS, **(body_limits or {})}

    async def call(request: Request, body_type, handler, *, auth: bool = True, query=None) -> Response:
        """``query``: read the request from its query string (a GET) instead of its body."""
        try:
            header = request.headers.get(SCHEMA_HEADER)
            if header is not None:
                try:
                    hub.check_schema(int(header))
                except ValueError:
                    raise HubError(400, "bad_request", f"{SCHEMA_HEADER} must be a number") from None
            raw = await _body(request, limits[request.url.path.rsplit("/", 1)[-1]])
            if query is not None:
                where = next((name for name, value in request.query_params.multi_items() if "\x00" in value), None)
                if where:
                    raise HubError(400, "bad_request", f"query parameter {where!r} contains a NUL character (U+0000)")
                body = query(request)
            else:
                try:
                    body = p.decode(raw, body_type)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    raise HubError(400, "bad_request", f"the request could not be read: {exc}") from None
                _refuse_nul(raw, body)
            if auth:
                bearer = request.headers.get("authorization", "")
                token = bearer[7:] if bearer.lower().startswith("bearer ") else ""
                who = await run_in_threadpool(hub.authenticate, token)
                result = await run_in_threadpool(handler, who, body)
            else:
                result = await run_in_threadpool(handler, body)
            return _json(result)
        except HubError as exc:
            return _error(hub, exc)
        except ClientDisconnect:
            return Response(status_code=400)     # gone mid-body: nobody reads the answer
        except StorageUnavailable as exc:
            log.error("hub storage unavailable: %s", exc)
            return _error(hub, HubError(503, "unavailable", "The hub cannot reach its database; try again shortly."))

    async def token(request: Request) -> Response:
        # Sign-in attempts are limited per client address (argon2 is expensive).  Behind a
        # proxy this is the proxy's, unless uvicorn is told to trust its X-Forwarded-For.
        address = request.client.host if request.client else ""
        return await call(request, p.TokenRequest, lambda body: hub.token(body, address), auth=False)

    async def push(request: Request) -> Response:
        return await call(request, p.PushRequest, hub.push)

    async def pull(request: Request) -> Response:
        return await call(request, p.PullRequest, hub.pull)

    async def bootstrap(request: Request) -> Response:
        return await call(request, p.BootstrapRequest, hub.bootstrap)

    async def audit(request: Request) -> Response:
        return await call(request, p.AuditAnchorRequest, hub.anchor_audit)

    def events_query(request: Request) -> tuple[int, int]:
        return _whole(request, "after", 0), _whole(request, "limit", DEFAULT_EVENT_PAGE)

    async def telemetry(request: Request) -> Response:
        return await call(request, None, lambda who, q: hub.telemetry_page(who, *q), query=events_query)

    def snapshot_query(request: Request) -> tuple[int, tuple[str, int, int], int, bool]:
        order = request.query_params.get("order", "")
        if len(order) > 200:
            raise HubError(400, "bad_request", "query parameter 'order' must be an order id the hub gave "
                           f"(got {len(order)} characters)")
        form = request.query_params.get("format", "json")
        if form not in ("json", "columns"):
            raise HubError(400, "bad_request", "query parameter 'format' must be 'json' or 'columns' "
                           f"(got {form[:40]!r})")
        return (_whole(request, "head", 0), (order, _whole(request, "at", 0), _whole(request, "seq", 0)),
                _whole(request, "limit", DEFAULT_EVENT_PAGE), form == "columns")

    async def telemetry_snapshot(request: Request) -> Response:
        return await call(request, None, lambda who, q: hub.telemetry_snapshot(who, *q[:3], columns=q[3]),
                          query=snapshot_query)

    async def health(request: Request) -> Response:
        return Response(msgspec.json.encode({"ok": True, "hub_time_ms": hub.now_ms()}), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        task = None
        if gc_interval_s > 0:
            async def collect():
                while True:
                    await asyncio.sleep(gc_interval_s)
                    try:
                        report = await run_in_threadpool(hub.gc)
                        log.info("hub gc: %s", report)
                    except Exception:   # keep serving; the next round retries
                        log.exception("hub gc failed")
            task = asyncio.create_task(collect())
        try:
            yield
        finally:
            if task:
                task.cancel()

    return Starlette(routes=[
        Route("/v1/token", token, methods=["POST"]),
        Route("/v1/push", push, methods=["POST"]),
        Route("/v1/pull", pull, methods=["POST"]),
        Route("/v1/bootstrap", bootstrap, methods=["POST"]),
        Route("/v1/audit", audit, methods=["POST"]),
        Route("/v1/telemetry", telemetry, methods=["GET"]),
        Route("/v1/telemetry/snapshot", telemetry_snapshot, methods=["GET"]),
        Route("/v1/health", health, methods=["GET"]),
    ], lifespan=lifespan)
