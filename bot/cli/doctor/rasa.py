"""Rasa, when ``NLU_BACKEND=rasa``: the server at ``RASA_URL`` answers ``POST /model/parse``
with a parse result, so a model is loaded and the token (``RASA_TOKEN``) is accepted. Without
it the bot still answers, through the built-in model, and logs a warning for every message."""

from __future__ import annotations

from typing import Any

from bot.cli.doctor.findings import Finding, fail, ok
from bot.config import Settings

AREA = "nlu"
CHECK = "rasa"
TIMEOUT_SECONDS = 5.0
FALLBACK = "until then every message is understood by the built-in model instead"


async def check_rasa(settings: Settings) -> list[Finding]:
    if settings.nlu_backend != "rasa":
        return []
    if not settings.rasa_url:
        return [
            fail(
                AREA,
                CHECK,
                "NLU_BACKEND=rasa but RASA_URL is not set",
                "set RASA_URL to the Rasa server (e.g. http://localhost:5005)",
            )
        ]
    import httpx

    endpoint = settings.rasa_url.rstrip("/") + "/model/parse"
    params = {"token": settings.rasa_token} if settings.rasa_token else None
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(endpoint, json={"text": "hello"}, params=params)
    except httpx.HTTPError as exc:
        return [
            fail(
                AREA,
                CHECK,
                f"could not reach Rasa at {endpoint} ({type(exc).__name__}); {FALLBACK}",
                "start the Rasa server with --enable-api, or correct RASA_URL",
            )
        ]
    return [_verdict(endpoint, response.status_code, _json(response))]


def _verdict(endpoint: str, status: int, body: Any) -> Finding:
    if status in (401, 403):
        return fail(
            AREA,
            CHECK,
            f"Rasa refused the request ({status}); {FALLBACK}",
            "set RASA_TOKEN to the server's --auth-token",
        )
    if status != 200:
        message = body.get("message") if isinstance(body, dict) else None
        return fail(
            AREA,
            CHECK,
            f"Rasa answered {status}{f': {message}' if message else ''}; {FALLBACK}",
            "load a trained model on the Rasa server (rasa run --enable-api -m models/)",
        )
    intent = body.get("intent") if isinstance(body, dict) else None
    if not isinstance(intent, dict) or "name" not in intent:
        return fail(
            AREA,
            CHECK,
            f"{endpoint} did not answer with a parse result; {FALLBACK}",
            "point RASA_URL at the Rasa server itself (its HTTP API, --enable-api)",
        )
    return ok(AREA, CHECK, f'{endpoint} parses messages ("hello" → {intent["name"]})')


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
