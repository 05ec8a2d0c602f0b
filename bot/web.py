"""The ``web`` process's ASGI app: the adapters' HTTP routes (Slack events, the Telegram
webhook) on one port, plus ``/healthz`` — 503 with the reason when an adapter's own connection
(Discord's gateway) has ended for good."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.messages import Channel, HoldsConnection, ServesHttp


def create_web_app(channels: Mapping[str, Channel]) -> Starlette:
    async def health(_request: Request) -> JSONResponse:
        failures = {
            name: channel.failure
            for name, channel in channels.items()
            if isinstance(channel, HoldsConnection) and channel.failure
        }
        if failures:
            return JSONResponse({"status": "failing", "failures": failures}, status_code=503)
        return JSONResponse({"status": "ok"})

    routes: list[BaseRoute] = [Route("/healthz", health, methods=["GET"])]
    for channel in channels.values():
        if isinstance(channel, ServesHttp):
            routes.extend(channel.http_routes())
    return Starlette(routes=routes)
