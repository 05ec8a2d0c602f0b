"""The ``web`` process's ASGI app: the adapters' HTTP routes (Slack events, the Telegram
webhook) on one port, plus ``/healthz``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.messages import Channel, ServesHttp


def create_web_app(channels: Mapping[str, Channel]) -> Starlette:
    routes: list[BaseRoute] = [Route("/healthz", _health, methods=["GET"])]
    for channel in channels.values():
        if isinstance(channel, ServesHttp):
            routes.extend(channel.http_routes())
    return Starlette(routes=routes)


async def _health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})
