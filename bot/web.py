"""The ``web`` process's ASGI app: the adapters' HTTP routes (Slack events, the Telegram
webhook) on one port, plus ``/healthz`` — the process is up; 503 with the reason when an
adapter's own connection (Discord's gateway) has ended for good — and ``/readyz`` — every
dependency checked (see ``bot.readiness``), 503 naming the failing ones."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.messages import Channel, HoldsConnection, ServesHttp
from bot.readiness import Readiness, adapters_only


def create_web_app(
    channels: Mapping[str, Channel], readiness: Readiness | None = None
) -> Starlette:
    """``readiness`` comes from the composition root (``HelpDesk.readiness``); without it
    ``/readyz`` checks the adapters alone."""
    readiness = readiness or adapters_only(channels)

    async def health(_request: Request) -> JSONResponse:
        failures = {
            name: channel.failure
            for name, channel in channels.items()
            if isinstance(channel, HoldsConnection) and channel.failure
        }
        if failures:
            return JSONResponse({"status": "failing", "failures": failures}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def ready(_request: Request) -> JSONResponse:
        assert readiness is not None
        checks = await readiness()
        failing = sorted(name for name, check in checks.items() if not check.ok)
        body: dict[str, object] = {
            "status": "failing" if failing else "ok",
            "checks": {name: check.as_json() for name, check in checks.items()},
        }
        if failing:
            body["failing"] = failing
        return JSONResponse(body, status_code=503 if failing else 200)

    routes: list[BaseRoute] = [
        Route("/healthz", health, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
    ]
    for channel in channels.values():
        if isinstance(channel, ServesHttp):
            routes.extend(channel.http_routes())
    return Starlette(routes=routes)
