"""The widget's files, served by the web process itself (no CDN, no build step), and the
``/demo`` shop page.

``/static/widget/widget.js`` is the address sites put in their ``<script>`` tag, so it keeps
its name: browsers keep it five minutes and then revalidate (``ETag`` → 304). Everything it
loads has its content hash in its name (``widget.<hash>.css``) and is cached for a year as
immutable; a new release changes the name. ``widget.<hash>.js`` is there for sites that pin a
release.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

STATIC_PREFIX = "/static/widget/"
SHORT_CACHE = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"
# The demo page allows nothing inline: the widget must work under a strict policy
DEMO_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str
    cache_control: str


def _read(name: str) -> bytes:
    return resources.files("bot.adapters").joinpath("web_static", name).read_bytes()


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:12]


def _hashed(name: str, digest: str) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem}.{digest}.{ext}"


class WidgetAssets:
    def __init__(self) -> None:
        self.files: dict[str, Asset] = {}
        css_names = {}
        for name in ("widget.css", "demo.css"):
            body = _read(name)
            digest = _digest(body)
            css_names[name] = _hashed(name, digest)
            self.files[css_names[name]] = Asset(body, TYPES[".css"], f'"{digest}"', IMMUTABLE)
        script = _read("widget.js").replace(
            b"/static/widget/widget.css", (STATIC_PREFIX + css_names["widget.css"]).encode()
        )
        digest = _digest(script)
        self.files["widget.js"] = Asset(script, TYPES[".js"], f'"{digest}"', SHORT_CACHE)
        self.files[_hashed("widget.js", digest)] = Asset(
            script, TYPES[".js"], f'"{digest}"', IMMUTABLE
        )
        self.demo = (
            _read("demo.html")
            .replace(b"/static/widget/demo.css", (STATIC_PREFIX + css_names["demo.css"]).encode())
            .decode()
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route(STATIC_PREFIX + "{name}", self._file, methods=["GET", "HEAD"]),
            Route("/demo", self._demo, methods=["GET"]),
        ]

    async def _file(self, request: Request) -> Response:
        asset = self.files.get(request.path_params["name"])
        if asset is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {
            "ETag": asset.etag,
            "Cache-Control": asset.cache_control,
            "X-Content-Type-Options": "nosniff",
            "Access-Control-Allow-Origin": "*",  # the script is public; the chat checks Origin
        }
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    async def _demo(self, _request: Request) -> Response:
        return Response(
            self.demo,
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": DEMO_POLICY, "Cache-Control": "no-cache"},
        )
