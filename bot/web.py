"""The ``web`` process's ASGI app: the adapters' HTTP routes (Slack events, the Telegram
webhook) on one port, plus ``/healthz`` — the process is up; 503 with the reason when an
adapter's own connection (Discord's gateway) has ended for good — ``/readyz`` — every
dependency checked (see ``bot.readiness``), 503 naming the failing ones — and ``/metrics`` —
Prometheus' text format (see ``bot.metrics``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.messages import Channel, HoldsConnection, ServesHttp
from bot.metrics import CONTENT_TYPE, exposition
from bot.readiness import Readiness, adapters_only
from bot.reports.scrape import Scrape


def create_web_app(
    channels: Mapping[str, Channel],
    readiness: Readiness | None = None,
    metrics: Scrape | None = None,
    *,
    adapter_routes: bool = True,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """``readiness`` and ``metrics`` come from the composition root (``HelpDesk.readiness``,
    ``HelpDesk.metrics``); without them ``/readyz`` checks the adapters alone and
    ``/metrics`` shows this process's counters without the database-wide gauges.
    ``extra_routes``: the web process's own pages (the managers' dashboard)."""
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

    async def scraped(_request: Request) -> Response:
        body = await metrics() if metrics is not None else exposition(None)
        return Response(body, media_type=CONTENT_TYPE)

    routes: list[BaseRoute] = [
        Route("/healthz", health, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
        Route("/metrics", scraped, methods=["GET"]),
    ]
    # a worker's or scheduler's metrics port serves no platform traffic
    for channel in channels.values() if adapter_routes else ():
        if isinstance(channel, ServesHttp):
            routes.extend(channel.http_routes())
    routes.extend(extra_routes)
    return Starlette(routes=routes)
