"""What one small transaction costs the process, through the help desk's own session factory.

    python -m benchmarks.transaction_cost [--database-url URL] [--count 300]

Inserts ``count`` rows into a scratch table, one transaction each (a session, one INSERT, a
commit), and reports the client's CPU and the wall time per transaction: the floor under every
transaction a message needs (storing the arrival, claiming it, handling it, delivering). The
table is dropped afterwards; without ``--database-url`` a temporary SQLite file is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.storage.db import create_engine, session_factory

TABLE = "bench_transaction_cost"


async def measure(url: str, count: int) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"CREATE TABLE {TABLE} (v INT)"))
        for _ in range(10):  # the pool's connections opened, statements prepared
            await _one(sessions, 0)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(count):
            await _one(sessions, i)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        await engine.dispose()
    return {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "transactions": count,
        "client_cpu_ms_per_transaction": round(cpu * 1000 / count, 3),
        "wall_ms_per_transaction": round(wall * 1000 / count, 3),
    }


async def _one(sessions: Any, value: int) -> None:
    async with sessions() as session:
        await session.execute(text(f"INSERT INTO {TABLE} (v) VALUES (:v)"), {"v": value})
        await session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'cost.db'}"
        print(json.dumps(asyncio.run(measure(url, args.count)), indent=1))


if __name__ == "__main__":
    main()
