"""The optional Rasa backend against local stand-ins of a Rasa server: one that answers
``/model/parse`` in Rasa's documented shape, one that returns errors, and one that never answers.
When Rasa fails the built-in model answers instead."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from bot.cli.doctor.findings import Status
from bot.cli.doctor.rasa import check_rasa
from bot.config import Settings
from nlu.model import NluModel
from nlu.rasa_http import RasaParser
from nlu.train import train
from tests.unit.test_nlu_fakes import HashingEmbedder

DATA = """\
version: "3.1"
nlu:
- intent: order_status
  examples: |
    - where is my order
    - track my order
    - my order has not arrived
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
"""


def rasa_response(text: str) -> dict[str, object]:
    """What Rasa 3's ``POST /model/parse`` returns for an order question."""
    start = text.find("LM-")
    return {
        "text": text,
        "intent": {"name": "order_status", "confidence": 0.93},
        "entities": [
            {
                "entity": "order_number",
                "start": start,
                "end": start + 9,
                "confidence_entity": 0.99,
                "value": text[start : start + 9],
                "extractor": "DIETClassifier",
            }
        ],
        "intent_ranking": [
            {"name": "order_status", "confidence": 0.93},
            {"name": "greet", "confidence": 0.07},
        ],
        "text_tokens": [[0, 5]],
    }


class _Server:
    def __init__(self, status: int, fallback_intent: bool = False) -> None:
        self.requests: list[dict[str, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body})
                payload = rasa_response(body["text"])
                if fallback_intent:
                    payload["intent"] = {"name": "nlu_fallback", "confidence": 0.3}
                data = json.dumps(payload if status == 200 else {"error": "boom"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def builtin(tmp_path: Path) -> tuple[NluModel, HashingEmbedder]:
    data = tmp_path / "nlu.yml"
    data.write_text(DATA)
    embedder = HashingEmbedder()
    train(data, tmp_path / "model", embedder)
    return NluModel.load(tmp_path / "model"), embedder


@pytest.fixture
def rasa() -> Iterator[_Server]:
    server = _Server(200)
    yield server
    server.close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that accepts connections and never answers (until the test ends)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def vector_of(embedder: HashingEmbedder, text: str) -> np.ndarray:
    return embedder.encode([text])[0]


def test_rasa_parse_is_used_with_its_entities(
    rasa: _Server, builtin: tuple[NluModel, HashingEmbedder]
) -> None:
    model, embedder = builtin
    parser = RasaParser(url=rasa.url + "/", fallback=model)
    text = "where is LM-204518 right now"
    result = parser.parse_vector(text, vector_of(embedder, text))
    assert result.intent == "order_status"
    assert result.confidence == pytest.approx(0.93)
    assert [(e.entity, e.value, e.text) for e in result.entities] == [
        ("order_number", "LM-204518", "LM-204518")
    ]
    assert result.ranking[0] == ("order_status", 0.93)
    assert rasa.requests == [{"path": "/model/parse", "body": {"text": text}}]


def test_rasa_nlu_fallback_means_out_of_scope(
    builtin: tuple[NluModel, HashingEmbedder],
) -> None:
    server = _Server(200, fallback_intent=True)
    try:
        model, embedder = builtin
        result = RasaParser(url=server.url, fallback=model).parse_vector(
            "tell me a joke", vector_of(embedder, "tell me a joke")
        )
    finally:
        server.close()
    assert result.out_of_scope and result.intent is None


def test_an_error_status_falls_back_to_the_builtin_model(
    builtin: tuple[NluModel, HashingEmbedder], caplog: pytest.LogCaptureFixture
) -> None:
    server = _Server(500)
    try:
        model, embedder = builtin
        with caplog.at_level(logging.WARNING, logger="nlu.rasa_http"):
            result = RasaParser(url=server.url, fallback=model).parse_vector(
                "hello", vector_of(embedder, "hello")
            )
    finally:
        server.close()
    assert result.intent == "greet"  # the built-in model's answer, not Rasa's order_status
    assert "using the built-in classifier" in caplog.text


def test_a_silent_server_times_out_and_falls_back(
    silent_url: str, builtin: tuple[NluModel, HashingEmbedder], caplog: pytest.LogCaptureFixture
) -> None:
    model, embedder = builtin
    parser = RasaParser(url=silent_url, fallback=model, timeout=0.2)
    with caplog.at_level(logging.WARNING, logger="nlu.rasa_http"):
        result = parser.parse_vector("hello", vector_of(embedder, "hello"))
    assert result.intent == "greet"
    assert "Timeout" in caplog.text


def test_an_unreachable_server_falls_back(builtin: tuple[NluModel, HashingEmbedder]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port any more
    model, embedder = builtin
    result = RasaParser(url=f"http://127.0.0.1:{port}", fallback=model, timeout=0.5).parse_vector(
        "track my order", vector_of(embedder, "track my order")
    )
    assert result.intent == "order_status"


def test_nlu_backend_rasa_puts_rasa_in_front_of_the_builtin_model(
    rasa: _Server, builtin: tuple[NluModel, HashingEmbedder]
) -> None:
    from bot.bootstrap import _intent_parser
    from bot.config import Settings

    model, embedder = builtin
    with_rasa = _intent_parser(Settings(NLU_BACKEND="rasa", RASA_URL=rasa.url), model)
    without_url = _intent_parser(Settings(NLU_BACKEND="rasa", RASA_URL=""), model)
    builtin_only = _intent_parser(Settings(NLU_BACKEND="builtin", RASA_URL=rasa.url), model)

    text = "hello LM-204518"
    assert with_rasa.parse_vector(text, vector_of(embedder, text)).intent == "order_status"
    assert without_url is model and builtin_only is model


# --- helpdesk doctor ---------------------------------------------------------------------


def _rasa_settings(tmp_path: Path, url: str) -> Settings:
    return Settings(HELPDESK_DATA_DIR=tmp_path, NLU_BACKEND="rasa", RASA_URL=url)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("status", "verdict", "fix"),
    [(200, Status.OK, ""), (401, Status.FAIL, "RASA_TOKEN"), (500, Status.FAIL, "model")],
)
async def test_the_doctor_asks_rasa_for_a_parse(
    tmp_path: Path, status: int, verdict: Status, fix: str
) -> None:
    server = _Server(status)
    try:
        (finding,) = await check_rasa(_rasa_settings(tmp_path, server.url))
    finally:
        server.close()
    assert finding.status is verdict, finding.detail
    assert fix in finding.fix
    if verdict is Status.OK:
        assert "order_status" in finding.detail
    else:
        assert "built-in model" in finding.detail  # what the bot does meanwhile


async def test_the_doctor_says_rasa_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    (finding,) = await check_rasa(_rasa_settings(tmp_path, url))
    assert finding.status is Status.FAIL and "could not reach Rasa" in finding.detail
    assert await check_rasa(Settings(HELPDESK_DATA_DIR=tmp_path)) == []  # type: ignore[call-arg]
