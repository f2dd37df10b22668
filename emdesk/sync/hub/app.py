"""The hub over HTTP(S): a Starlette app around a ``Hub``.

  POST /v1/token      password (device registration) or refresh token -> access token
  POST /v1/push       ops -> per-op results            (Bearer access token)
  POST /v1/pull       cursor -> one page of the feed   (Bearer access token)
  POST /v1/bootstrap  snapshot + keyset -> one page    (Bearer access token)
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
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import protocol as p
from .engine import Hub, HubError
from .storage import StorageUnavailable

SCHEMA_HEADER = "X-Emdesk-Schema"
MAX_BODY = 64 * 1024 * 1024      # a push of a few thousand ops is a few MB
log = logging.getLogger("emdesk.hub")


def _json(body, status: int = 200) -> Response:
    return Response(p.encode(body), status_code=status, media_type="application/json")


def _error(hub: Hub, status: int, code: str, message: str, hub_time_ms: int = 0) -> Response:
    return _json(p.ErrorBody(error=code, message=message, hub_time_ms=hub_time_ms or hub.now_ms()), status)


def create_app(hub: Hub, *, gc_interval_s: float = 0.0) -> Starlette:
    """The ASGI app.  ``gc_interval_s`` > 0 runs ``hub.gc()`` that often in the background."""

    async def call(request: Request, body_type, handler, *, auth: bool = True) -> Response:
        try:
            header = request.headers.get(SCHEMA_HEADER)
            if header is not None:
                try:
                    hub.check_schema(int(header))
                except ValueError:
                    raise HubError(400, "bad_request", f"{SCHEMA_HEADER} must be a number") from None
            size = request.headers.get("content-length")
            if size is not None and size.isdigit() and int(size) > MAX_BODY:
                raise HubError(413, "too_large", "The request is too large: send fewer changes at a time.")
            raw = await request.body()
            if len(raw) > MAX_BODY:
                raise HubError(413, "too_large", "The request is too large: send fewer changes at a time.")
            try:
                body = p.decode(raw, body_type)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise HubError(400, "bad_request", f"the request could not be read: {exc}") from None
            if auth:
                bearer = request.headers.get("authorization", "")
                token = bearer[7:] if bearer.lower().startswith("bearer ") else ""
                who = await run_in_threadpool(hub.authenticate, token)
                result = await run_in_threadpool(handler, who, body)
            else:
                result = await run_in_threadpool(handler, body)
            return _json(result)
        except HubError as exc:
            return _error(hub, exc.status, exc.code, exc.message, exc.hub_time_ms)
        except StorageUnavailable as exc:
            log.error("hub storage unavailable: %s", exc)
            return _error(hub, 503, "unavailable", "The hub cannot reach its database; try again shortly.")

    async def token(request: Request) -> Response:
        return await call(request, p.TokenRequest, hub.token, auth=False)

    async def push(request: Request) -> Response:
        return await call(request, p.PushRequest, hub.push)

    async def pull(request: Request) -> Response:
        return await call(request, p.PullRequest, hub.pull)

    async def bootstrap(request: Request) -> Response:
        return await call(request, p.BootstrapRequest, hub.bootstrap)

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
        Route("/v1/health", health, methods=["GET"]),
    ], lifespan=lifespan)
