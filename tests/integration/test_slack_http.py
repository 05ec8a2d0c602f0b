"""Slack over the HTTP Events API: signed requests, as Slack sends them, against the real
``web`` app (``bot.web.create_web_app`` serving the adapter's ``POST /slack/events``) under
uvicorn on 127.0.0.1; bolt verifies the signatures. Web API calls go to the local stand-in.

The stand-in cannot prove Slack's real retry schedule or scopes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn

from bot.adapters.slack import SlackChannel, build
from bot.clock import FrozenClock
from bot.config import Settings
from bot.web import create_web_app
from tests.support.slack_api import SlackStandIn, load_fixture, sign
from tests.support.slack_desk import (
    AGENTS,
    CUSTOMER_DM,
    SIGNING_SECRET,
    SlackDesk,
    running_slack_desk,
)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn()
    stand_in.users.update({"U0ADA": "Ada", "U0DANA": "Dana"})
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@pytest.fixture
async def d(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> AsyncIterator[SlackDesk]:
    async with running_slack_desk(migrated_url, clock, tmp_path, slack, socket_mode=False) as desk:
        yield desk


@pytest.fixture
async def web(d: SlackDesk) -> AsyncIterator[httpx.AsyncClient]:
    """The web process's app on a real socket (bound before serving, so no start-up race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_web_app(d.helpdesk.channels), log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    await task
    sock.close()


async def post_json(
    web: httpx.AsyncClient, body: dict[str, Any], *, timestamp: int | None = None, **headers: str
) -> httpx.Response:
    raw = json.dumps(body).encode()
    signed = sign(SIGNING_SECRET, raw, timestamp)
    return await web.post(
        "/slack/events",
        content=raw,
        headers={"Content-Type": "application/json", **signed, **headers},
    )


async def post_form(web: httpx.AsyncClient, fields: dict[str, str]) -> httpx.Response:
    raw = urlencode(fields).encode()
    return await web.post(
        "/slack/events",
        content=raw,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **sign(SIGNING_SECRET, raw),
        },
    )


async def test_url_verification_is_answered_with_the_challenge(web: httpx.AsyncClient) -> None:
    response = await post_json(web, load_fixture("url_verification"))
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


async def test_forged_and_stale_signatures_get_401_and_do_nothing(
    web: httpx.AsyncClient, d: SlackDesk
) -> None:
    body = d.dm("I forgot my password")
    raw = json.dumps(body).encode()
    forged = sign("not-the-secret", raw)
    response = await web.post(
        "/slack/events", content=raw, headers={"Content-Type": "application/json", **forged}
    )
    assert response.status_code == 401
    stale = await post_json(web, body, timestamp=int(time.time()) - 10 * 60)
    assert stale.status_code == 401
    unsigned = await web.post("/slack/events", content=raw)
    assert unsigned.status_code == 401
    await d.drain()
    assert d.slack.posts(CUSTOMER_DM) == []


async def test_a_dm_over_http_is_answered_once_even_when_slack_retries(
    web: httpx.AsyncClient, d: SlackDesk
) -> None:
    body = d.dm("I forgot my password")
    assert (await post_json(web, body)).status_code == 200
    retry = await post_json(web, body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"})
    assert retry.status_code == 200
    await d.drain()
    (card,) = d.slack.posts(CUSTOMER_DM)
    assert "Reset your password" in card.args["text"]


async def test_buttons_modal_and_slash_command_over_http(
    web: httpx.AsyncClient, d: SlackDesk
) -> None:
    await post_json(web, d.dm("I forgot my password"))
    await d.drain()
    (card,) = d.slack.posts(CUSTOMER_DM)
    human = d.click(
        {**card.args, "ts": card.response["ts"]},
        "Talk to a person",
        user="U0ADA",
        channel=CUSTOMER_DM,
    )
    assert (await post_form(web, {"payload": json.dumps(human)})).status_code == 200
    await d.drain()
    (post_call,) = d.slack.posts(AGENTS)
    post = {**post_call.args, "ts": post_call.response["ts"]}

    claim = d.click(post, "Claim", user="U0DANA", channel=AGENTS)
    assert (await post_form(web, {"payload": json.dumps(claim)})).status_code == 200
    await d.drain()
    assert "claimed by Dana" in d.slack.calls_to("chat.update")[-1]["text"]

    reply = d.click(post, "Reply", user="U0DANA", channel=AGENTS)
    assert (await post_form(web, {"payload": json.dumps(reply)})).status_code == 200
    (opened,) = d.slack.calls_to("views.open")
    assert opened["trigger_id"] == reply["trigger_id"]
    submission = load_fixture("view_submission")
    submission["view"]["private_metadata"] = opened["view"]["private_metadata"]
    submission["view"]["state"]["values"]["reply"]["text"]["value"] = "A new link is on its way."
    response = await post_form(web, {"payload": json.dumps(submission)})
    assert response.status_code == 200 and response.text == ""  # the modal closes
    await d.drain()
    assert (
        d.slack.posts(CUSTOMER_DM)[-1].args["text"] == "Dana (Support): A new link is on its way."
    )

    command = load_fixture("slash_command")
    command["text"] = "cases mine"
    assert (await post_form(web, command)).status_code == 200
    await d.drain()
    assert "#1" in d.slack.posts(AGENTS)[-1].args["text"]


def test_the_builder_reads_the_environment_and_offers_the_route(tmp_path: Path) -> None:
    defaults = tmp_path / "empty.yml"  # an empty file: the default desk
    defaults.write_text("")
    assert build(Settings(HELPDESK_CONFIG=defaults), True) is None
    config = tmp_path / "helpdesk.yml"
    config.write_text(
        "queues:\n  - name: default\n    channel: slack:C0AGENTS\n"
        "roles:\n  agents:\n    slack: [U0DANA, 'group:S0AGENTS']\n"
    )
    channel = build(
        Settings(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s3cr3t",
            HELPDESK_CONFIG=config,
        ),
        False,
    )
    assert isinstance(channel, SlackChannel)
    assert [route.path for route in channel.http_routes()] == ["/slack/events"]
    no_http = build(Settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1"), True)
    assert isinstance(no_http, SlackChannel) and no_http.http_routes() == []


async def test_an_event_that_could_not_be_stored_is_not_acknowledged(
    slack: SlackStandIn,
) -> None:
    """Slack only hears "OK" once the inbound is stored; otherwise it redelivers."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.messages import Inbound

    stored: list[Inbound] = []
    failures = ["database is down"]

    async def store(inbound: Inbound) -> None:
        if failures:
            raise RuntimeError(failures.pop())
        stored.append(inbound)

    channel = SlackChannel(
        client=AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url),
        signing_secret=SIGNING_SECRET,
        agent_channels={AGENTS},
    )
    await channel.start(store)
    transport = httpx.ASGITransport(app=create_web_app({"slack": channel}))
    async with httpx.AsyncClient(transport=transport, base_url="http://slack.test") as web:
        body = load_fixture("message_im")
        first = await post_json(web, body)
        retry = await post_json(web, body, **{"X-Slack-Retry-Num": "1"})
    assert first.status_code >= 500
    assert retry.status_code == 200
    (inbound,) = stored  # as it arrived: completed (name, plain text) when it is handled
    assert (inbound.event_id, inbound.needs_completion) == ("Ev0DM00001", True)
    completed = await channel.complete(inbound)
    await channel.stop()
    assert completed.text == (
        "I forgot my password & can't get into the shop "
        "(https://shop.example.com/login?next=%2Forders&lang=en)"
    )
