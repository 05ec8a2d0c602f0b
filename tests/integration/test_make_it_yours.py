"""A second, unrelated business sets up its own desk with ``helpdesk init`` and no code change.

Spoke & Sprocket Cycles, a bicycle workshop (``tests/fixtures/bike_shop``: its answers to
``helpdesk init``, 12 articles, its own topic intents and entities, a few reworded replies), is
set up by the real command, then talks to customers through the real model — in process on the
fake adapter, and through ``helpdesk chat`` in the terminal. Its greeting, off-topic reply,
help-centre links and product tags are its own, and nothing of the bundled sample shop (Lumio,
its words, intents or entities) reaches a customer or an agent.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FrozenClock, SystemClock
from bot.config import (
    PROJECT_ROOT,
    DeskConfig,
    QueueConfig,
    RoleMembers,
    Roles,
    Settings,
    load_desk_config,
)
from bot.dialogs.understanding import EmbeddingUnderstander
from bot.knowledge.search import configured_search
from bot.knowledge.service import ensure_ready
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database
from nlu.model import NluModel
from nlu.train import load_or_train
from nlu.training_data import load_training_data
from tests.support.desk import Transcript, build_transcript

pytestmark = pytest.mark.model

FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "bike_shop"
HELP_CENTRE = "https://help.spokesprocket.example/articles"

# Whatever belongs to the bundled sample shop: its name and plan, its products, its order
# numbers, its topic intents.
SAMPLE_WORDS = re.compile(
    r"lumio|\bLM-\d|light ?strip|\bbulbs?\b|\bhub\b|smart light|"
    + "|".join(sorted(load_training_data(PROJECT_ROOT / "data" / "nlu").intents)),
    re.IGNORECASE,
)


def init_flags(data_dir: Path) -> list[str]:
    answers = yaml.safe_load((FIXTURE / "init.yml").read_text(encoding="utf-8"))
    flags = ["init", str(data_dir), "--yes", "--name", answers["name"]]
    flags += ["--covers", answers["covers"], "--help-center", answers["help_center"]]
    for language in answers["languages"]:
        flags += ["--language", language]
    return [*flags, "--articles", str(FIXTURE / "articles")]


def helpdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def set_up_bike_shop(data_dir: Path) -> None:
    """What the workshop does: ``helpdesk init``, then its own intents and wording added."""
    done = helpdesk(*init_flags(data_dir))
    assert done.returncode == 0, done.stderr
    assert "12 article(s)" in done.stdout
    shutil.copy(FIXTURE / "nlu" / "topics.yml", data_dir / "nlu" / "topics.yml")
    shutil.copy(FIXTURE / "replies.yml", data_dir / "replies.yml")


@pytest.fixture(scope="module")
def bike_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("spoke-and-sprocket")
    set_up_bike_shop(data_dir)
    return data_dir


@pytest.fixture(scope="module")
def bike_understander(bike_shop: Path, embedder: Any) -> EmbeddingUnderstander:
    """The workshop's model and index, trained and built from its data directory alone."""
    settings = Settings(
        DATABASE_URL=f"sqlite:///{bike_shop / 'knowledge.db'}", HELPDESK_DATA_DIR=bike_shop
    )

    async def prepare() -> NluModel:
        await upgrade_database(settings.effective_database_url)
        engine = create_engine(settings.effective_database_url)
        try:
            await ensure_ready(
                session_factory(engine),
                embedder,
                articles_dir=settings.articles_dir,
                index_dir=settings.index_dir,
                clock=SystemClock(),
            )
        finally:
            await engine.dispose()
        return await asyncio.to_thread(
            load_or_train, settings.nlu_sources, settings.model_dir, embedder
        )

    model = asyncio.run(prepare())
    desk = load_desk_config(settings.desk_config_file)
    return EmbeddingUnderstander(
        encoder=embedder,
        parser=model,
        searcher=configured_search(settings),
        supported_languages=desk.supported_languages,
        article_url=desk.help_center_url,
    )


def bike_desk(data_dir: Path) -> DeskConfig:
    """The workshop's helpdesk.yml as init wrote it, with its agents' channel on this platform."""
    desk = load_desk_config(data_dir / "helpdesk.yml")
    return desk.model_copy(
        update={
            "roles": Roles(agents=RoleMembers(fake=["dana"])),
            "queues": [QueueConfig(name="default", channel="fake:agents")],
        }
    )


@pytest.fixture
async def t(
    migrated_url: str,
    clock: FrozenClock,
    bike_shop: Path,
    bike_understander: EmbeddingUnderstander,
    tmp_path: Path,
) -> AsyncIterator[Transcript]:
    # the desk's data directory is the workshop's (its wording); its database is the test's own
    data_dir = tmp_path / "desk"
    shutil.copytree(bike_shop, data_dir, ignore=shutil.ignore_patterns("models", "index", "*.db"))
    transcript = await build_transcript(
        migrated_url,
        clock,
        data_dir,
        desk=bike_desk(bike_shop),
        understander=bike_understander,
    )
    yield transcript
    await transcript.helpdesk.close()


def test_init_writes_the_business_and_refuses_to_overwrite(tmp_path: Path) -> None:
    set_up_bike_shop(tmp_path)
    written = yaml.safe_load((tmp_path / "helpdesk.yml").read_text(encoding="utf-8"))
    assert written["business"]["name"] == "Spoke & Sprocket Cycles"
    assert written["help_center_url"] == HELP_CENTRE + "/{slug}"
    assert len(list((tmp_path / "articles").glob("*.md"))) == 13  # 12 and the folder's guide

    again = helpdesk(*init_flags(tmp_path))
    assert again.returncode == 2
    assert "already exists; use --force" in again.stderr
    assert helpdesk(*init_flags(tmp_path), "--force").returncode == 0


def test_the_model_knows_only_the_dialog_and_the_workshops_own_intents(
    bike_shop: Path, bike_understander: EmbeddingUnderstander
) -> None:
    intents = NluModel.load(bike_shop / "models" / "nlu").metadata.intents
    assert set(intents) >= {"greet", "human_handoff", "book_service", "repair_issue"}
    assert not SAMPLE_WORDS.search(" ".join(intents))


async def test_a_customer_of_the_workshop_sees_only_the_workshop(t: Transcript) -> None:
    greeting = await t.say("hello")
    assert greeting == [
        "Hi! I'm the Spoke & Sprocket Cycles help desk bot. Ask me anything about repairs, "
        "servicing, bookings, e-bikes and bike fitting, and I'll find the answer — or get you "
        "a person."
    ]

    (answer,) = await t.say("how much does it cost to fix a puncture?")
    assert answer.startswith("Puncture and flat tyre repair")
    assert "£15" in answer
    assert f"The full article: {HELP_CENTRE}/fix-a-puncture" in answer
    assert "kb:" not in answer
    assert await t.click("That helped") == ["Glad that helped! Anything else?"]

    await t.say("who painted the mona lisa")  # first miss: asked to rephrase
    off_topic = await t.say("what's the capital of peru")
    assert off_topic == [
        "I can only help with Spoke & Sprocket Cycles: repairs, servicing, bookings, e-bikes and "
        "bike fitting. Ask me about one of those — or choose “Talk to a person”."
    ]

    opened = await t.say("my ebike battery won't charge, can I talk to a person?")
    assert any("passed it to our mechanics" in line for line in opened)  # its own wording
    post = next(line for line in t.agents_saw() if line.startswith("New case #1"))
    assert "Tags: e-bike" in post  # its product, from its own lookup table and synonym
    assert "Bot suggested" not in post  # the puncture article settled the earlier question

    assert "#1 claimed by Dana." in await t.agent("claim 1")
    await t.agent("reply 1 Bring the battery and its charger in and we'll test both.")
    await t.say("thanks, booking SS-2041 by the way")

    # every message, edit, button and thread title sent to the customer and to the agents
    sent = t.channels["fake"].sent
    everything = "\n".join(
        "\n".join([o.text, o.title or "", *(b.label for b in o.buttons)]) for o in sent
    )
    assert "Bring the battery" in everything and "#1 Ada: thanks, booking SS-2041" in everything
    assert not SAMPLE_WORDS.search(everything), SAMPLE_WORDS.search(everything)


def test_the_terminal_chat_of_the_workshop(bike_shop: Path, tmp_path: Path) -> None:
    """``helpdesk chat`` on the workshop's data directory, as its README section says."""
    data_dir = tmp_path / "desk"
    shutil.copytree(bike_shop, data_dir, ignore=shutil.ignore_patterns("*.db"))
    script = tmp_path / "script.txt"
    script.write_text(
        "hi there\n"
        "do you fix e-bikes? the motor cuts out on hills\n"
        "can I book my cargo bike in for a service on Saturday?\n"
        "human please\n"
        "/agent claim 1\n"
        "/agent note 1 probably the speed sensor\n",
        encoding="utf-8",
    )
    env = {
        "HELPDESK_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "HELPDESK_ENCODER": "torch",  # the model is already trained; no export needed here
    }
    done = helpdesk("chat", "--script", str(script), "--name", "Priya", "--quiet", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    shown = done.stdout
    assert "Spoke & Sprocket Cycles help desk bot" in shown
    assert f"{HELP_CENTRE}/e-bike-battery-and-motor" in shown
    assert "[agents] New case #1" in shown
    assert not SAMPLE_WORDS.search(shown), SAMPLE_WORDS.search(shown)

    case = json.loads(helpdesk("cases", "show", "1", "--json", env=env).stdout)
    assert "cargo bike" in case["tags"]
    assert case["intent"] not in load_training_data(PROJECT_ROOT / "data" / "nlu").intents
