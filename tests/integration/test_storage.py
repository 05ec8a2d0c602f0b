"""The storage layer on both backends: models round-trip, constraints hold, datetimes stay
timezone-aware, and ``DATABASE_URL`` is translated for the async drivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.clock import FrozenClock
from bot.errors import ConfigError
from bot.messages import Button, ChannelRef, Outbound
from bot.storage.db import async_database_url, is_sqlite
from bot.storage.models import (
    Case,
    CaseEvent,
    Customer,
    CustomerIdentity,
    InboxMessage,
    OutboxMessage,
)
from bot.storage.uow import UnitOfWorkFactory

Sessions = async_sessionmaker[AsyncSession]


async def _customer(sessions: Sessions, clock: FrozenClock, name: str = "Ada") -> int:
    async with sessions.begin() as session:
        customer = Customer(display_name=name, created_at=clock.now())
        session.add(customer)
        await session.flush()
        return customer.id


async def test_customer_with_two_platform_identities_round_trips(
    sessions: Sessions, clock: FrozenClock
) -> None:
    async with sessions.begin() as session:
        customer = Customer(display_name="Ada", email="ada@example.com", created_at=clock.now())
        customer.identities = [
            CustomerIdentity(
                platform="telegram",
                platform_user_id="42",
                display_name="ada",
                created_at=clock.now(),
            ),
            CustomerIdentity(
                platform="slack",
                platform_user_id="U0ADA",
                display_name="Ada L",
                created_at=clock.now(),
            ),
        ]
        session.add(customer)
    customer_id = customer.id

    async with sessions() as session:
        loaded = await session.scalar(
            select(Customer)
            .where(Customer.id == customer_id)
            .options(selectinload(Customer.identities))
        )
        assert loaded is not None
        assert loaded.email == "ada@example.com"
        assert sorted((i.platform, i.platform_user_id) for i in loaded.identities) == [
            ("slack", "U0ADA"),
            ("telegram", "42"),
        ]
        found = await session.scalar(
            select(CustomerIdentity).where(
                CustomerIdentity.platform == "slack", CustomerIdentity.platform_user_id == "U0ADA"
            )
        )
        assert found is not None and found.customer_id == customer_id


async def test_the_same_platform_identity_cannot_belong_twice(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await _customer(sessions, clock), await _customer(sessions, clock, "Bob")
    async with sessions.begin() as session:
        session.add(
            CustomerIdentity(
                customer_id=first, platform="discord", platform_user_id="7", created_at=clock.now()
            )
        )
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                CustomerIdentity(
                    customer_id=second,
                    platform="discord",
                    platform_user_id="7",
                    created_at=clock.now(),
                )
            )


async def test_case_transcript_comes_back_in_order(sessions: Sessions, clock: FrozenClock) -> None:
    customer_id = await _customer(sessions, clock)
    async with sessions.begin() as session:
        case = Case(
            customer_id=customer_id,
            conversation="telegram:42",
            subject="Cannot log in",
            origin_platform="telegram",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(case)
        await session.flush()
        case_id = case.id
        for n, (kind, author, body) in enumerate(
            [
                ("message", "customer:telegram:42", "I cannot log in"),
                ("message", "bot", "Did you try resetting your password?"),
                ("note", "agent:slack:U1", "checking the auth logs"),
                ("message", "agent:slack:U1", "Fixed on our side, try again"),
            ]
        ):
            session.add(
                CaseEvent(
                    case_id=case_id,
                    kind=kind,
                    author=author,
                    body=body,
                    data={"n": n},
                    created_at=clock.now() + timedelta(seconds=n),
                )
            )
            await session.flush()

    async with sessions() as session:
        loaded = await session.scalar(
            select(Case).where(Case.id == case_id).options(selectinload(Case.events))
        )
        assert loaded is not None
        assert loaded.number == case_id
        assert (loaded.status, loaded.priority, loaded.queue, loaded.reopen_count) == (
            "new",
            "normal",
            "default",
            0,
        )
        assert [e.body for e in loaded.events] == [
            "I cannot log in",
            "Did you try resetting your password?",
            "checking the auth logs",
            "Fixed on our side, try again",
        ]
        assert [e.data for e in loaded.events] == [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]
        assert [e.created_at for e in loaded.events] == sorted(e.created_at for e in loaded.events)


async def test_outbox_rows_written_by_the_unit_of_work(
    uow_factory: UnitOfWorkFactory, sessions: Sessions, clock: FrozenClock
) -> None:
    channel = ChannelRef("slack", "C0123", "1700000000.000100")
    async with uow_factory() as uow:
        uow.send(Outbound(channel=channel, text="first"))
        uow.send(
            Outbound(channel=channel, text="second", buttons=(Button("Claim", "claim:12:"),)),
            ref_key="case:12:post",
        )
        await uow.commit()
    async with uow_factory() as uow:  # rolled back: leaves nothing behind
        uow.send(Outbound(channel=channel, text="never"))

    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [r.payload["text"] for r in rows] == ["first", "second"]
    assert {r.conversation for r in rows} == {"slack:C0123"}
    assert rows[0].payload["channel"] == "slack:C0123/1700000000.000100"
    assert rows[1].ref_key == "case:12:post"
    assert rows[1].payload["buttons"][0]["payload"] == "claim:12:"
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)
    assert all(r.next_attempt_at == clock.now() and r.sent_at is None for r in rows)
    assert Outbound.from_dict(rows[1].payload).buttons[0].label == "Claim"


async def test_inbox_rejects_a_duplicate_event_and_keeps_the_first(
    sessions: Sessions, clock: FrozenClock
) -> None:
    async with sessions.begin() as session:
        session.add(
            InboxMessage(
                platform="slack", event_id="Ev1", payload={"text": "first"}, received_at=clock.now()
            )
        )
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                InboxMessage(
                    platform="slack",
                    event_id="Ev1",
                    payload={"text": "redelivered"},
                    received_at=clock.now(),
                )
            )
    async with sessions.begin() as session:  # same id on another platform is a different event
        session.add(InboxMessage(platform="telegram", event_id="Ev1", received_at=clock.now()))

    async with sessions() as session:
        rows = (await session.scalars(select(InboxMessage).order_by(InboxMessage.id))).all()
    assert [(r.platform, r.event_id, r.payload) for r in rows] == [
        ("slack", "Ev1", {"text": "first"}),
        ("telegram", "Ev1", {}),
    ]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 7, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ],
    ids=["utc", "plus-2", "minus-5-30"],
)
async def test_timezone_aware_datetimes_come_back_aware_and_equal(
    sessions: Sessions, moment: datetime
) -> None:
    async with sessions.begin() as session:
        customer = Customer(display_name="T", created_at=moment)
        session.add(customer)
    async with sessions() as session:
        stored = await session.scalar(select(Customer.created_at).where(Customer.id == customer.id))
        ordered = await session.scalar(
            select(Customer.id).where(Customer.created_at >= moment - timedelta(seconds=1))
        )
    assert stored is not None
    assert stored.tzinfo is not None and stored.utcoffset() is not None
    assert stored == moment
    assert ordered == customer.id


async def test_naive_datetimes_are_refused(sessions: Sessions) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions.begin() as session:
            session.add(Customer(display_name="N", created_at=datetime(2026, 1, 1)))


async def test_sqlite_file_uses_wal_and_foreign_keys(
    engine: AsyncEngine, database_url: str
) -> None:
    if not is_sqlite(database_url):
        pytest.skip("SQLite pragmas")
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


async def test_foreign_keys_are_enforced(sessions: Sessions, clock: FrozenClock) -> None:
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                CustomerIdentity(
                    customer_id=999_999,
                    platform="slack",
                    platform_user_id="U9",
                    created_at=clock.now(),
                )
            )


async def test_engine_talks_to_the_expected_backend(engine: AsyncEngine, database_url: str) -> None:
    expected = "sqlite" if is_sqlite(database_url) else "postgresql"
    assert engine.dialect.name == expected
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1


# async_database_url: plain unit tests (no database).


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///x", "sqlite+aiosqlite:///x"),
        ("sqlite:////var/lib/helpdesk/h.db", "sqlite+aiosqlite:////var/lib/helpdesk/h.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("  postgresql://u@h/db\n", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u:p@h/db?sslmode=require", "postgresql+asyncpg://u:p@h/db?ssl=require"),
        (
            "postgres://u:p@h/db?sslmode=verify-full&application_name=hd",
            "postgresql+asyncpg://u:p@h/db?ssl=verify-full&application_name=hd",
        ),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_async_database_url(given: str, expected: str) -> None:
    assert async_database_url(given) == expected


@pytest.mark.parametrize(
    "junk", ["", "   ", "mysql://u@h/db", "helpdesk.db", "http://example.com", "://nothing"]
)
def test_async_database_url_rejects_junk(junk: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        async_database_url(junk)
