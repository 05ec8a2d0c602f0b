"""The action server's HTTP side: Rasa's ``POST /webhook`` (its ``action_endpoint``), served by
the help desk's own web stack (Starlette on uvicorn, like ``helpdesk run --role web``) around
rasa-sdk's ``ActionExecutor``. Answers as rasa-sdk's own server does: 200 with ``events`` and
``responses``; 400 for a body that is no action call or an action that rejected it; 404 for an
unknown action; 449 when the call carries no domain. ``GET /health`` and ``GET /actions`` as
there too.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

from rasa_sdk import utils
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logger = logging.getLogger(__name__)

# rasa-sdk's status for "send the domain again" (its ``ActionMissingDomainException``)
MISSING_DOMAIN = 449


def action_server_app(executor: ActionExecutor) -> Starlette:
    async def webhook(request: Request) -> JSONResponse:
        call = await _action_call(request)
        if not isinstance(call, dict):
            return JSONResponse({"error": "Invalid body request"}, status_code=400)
        utils.check_version_compatibility(call.get("version"))
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as exc:
            return _refused(exc.action_name, exc.message, 400)
        except ActionNotFoundException as exc:
            logger.error("Rasa asked for an unknown action: %s", exc.action_name)
            return _refused(exc.action_name, exc.message, 404)
        except ActionMissingDomainException as exc:
            return _refused(exc.action_name, exc.message, MISSING_DOMAIN)
        return JSONResponse(result.model_dump() if result else None)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def actions(request: Request) -> JSONResponse:
        return JSONResponse([a.model_dump() for a in executor.list_actions()])

    return Starlette(
        routes=[
            Route("/webhook", webhook, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/actions", actions, methods=["GET"]),
        ]
    )


async def _action_call(request: Request) -> Any:
    body = await request.body()
    try:
        if request.headers.get("Content-Encoding") == "deflate":  # Rasa may compress calls
            body = zlib.decompress(body)
        return json.loads(body)
    except (ValueError, zlib.error):
        return None


def _refused(action: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message, "action_name": action}, status_code=status)
