"""Persistent memory of the bot (SQLite, WAL): which signals were handled, which orders exist, the catch-up mark.

A signal id is claimed *before* anything is done with it, in its own
transaction, so a restart never handles it again (at most once). The broker
side is idempotent too (``orderRef`` = signal id, checked before placing), which
covers a crash between claiming and recording the order.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

from edge.bot.risk import Book

_SCHEMA = """
create table if not exists handled (
    signal_id text primary key, signal_ts text not null, handled_at text not null);
create table if not exists orders (
    signal_id text primary key, day text not null, structure text not null, quantity integer not null,
    limit_price real not null, max_loss real not null, status text not null, order_id integer);
create table if not exists meta (key text primary key, value text not null);
create table if not exists markouts (
    anomaly_id text not null, horizon text not null, type text not null, alert_ts text not null, mid real not null,
    primary key (anomaly_id, horizon));
"""
DEAD = ("Cancelled", "ApiCancelled", "Inactive", "Rejected", "ValidationError")


class Ledger:
    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=full")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def claim(self, signal_id: str, signal_ts: datetime, now: datetime) -> bool:
        """True the first time a signal id is seen, False ever after (across restarts)."""
        cur = self._db.execute("insert or ignore into handled values (?, ?, ?)",
                               (signal_id, signal_ts.isoformat(), now.isoformat()))
        return cur.rowcount == 1

    def seen(self, signal_id: str) -> bool:
        return self._db.execute("select 1 from handled where signal_id = ?", (signal_id,)).fetchone() is not None

    def record_order(self, signal_id: str, day: date, structure: str, quantity: int, limit: float,
                     max_loss: float, status: str, order_id: int | None) -> None:
        self._db.execute("insert or replace into orders values (?, ?, ?, ?, ?, ?, ?, ?)",
                         (signal_id, day.isoformat(), structure, quantity, limit, max_loss, status, order_id))

    def update_status(self, signal_id: str, status: str) -> None:
        self._db.execute("update orders set status = ? where signal_id = ?", (status, signal_id))

    def order(self, signal_id: str) -> dict | None:
        row = self._db.execute("select structure, quantity, limit_price, max_loss, status, order_id from orders "
                               "where signal_id = ?", (signal_id,)).fetchone()
        if row is None:
            return None
        return dict(zip(("structure", "quantity", "limit", "max_loss", "status", "order_id"), row))

    def book(self, day: date, shadow: bool = False) -> Book:
        """Today's live positions and their worst-case loss (cancelled or rejected orders do not count).

        Shadow positions count only in shadow mode, so switching a day from shadow to paper starts clean.
        """
        marks = ",".join("?" * len(DEAD))
        n, loss = self._db.execute(
            f"select count(*), coalesce(sum(max(max_loss, 0) * quantity), 0) from orders "
            f"where day = ? and status not in ({marks}) and (status = 'Shadow') = ?",
            (day.isoformat(), *DEAD, shadow)).fetchone()
        return Book(open_positions=int(n), committed_loss=float(loss))

    def mark(self) -> datetime | None:
        """Newest signal time handled: where catch-up starts after a reconnect or restart."""
        row = self._db.execute("select value from meta where key = 'mark'").fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def advance_mark(self, ts: datetime) -> None:
        current = self.mark()
        if current is None or ts > current:
            self._db.execute("insert or replace into meta values ('mark', ?)", (ts.isoformat(),))

    def record_markout(self, anomaly_id: str, horizon: str, type_: str, alert_ts: str, mid: float) -> bool:
        """Keep one alert's markout at one horizon (a redelivery is ignored); True when it was new."""
        cur = self._db.execute("insert or ignore into markouts values (?, ?, ?, ?, ?)",
                               (anomaly_id, horizon, type_, alert_ts, mid))
        return cur.rowcount == 1

    def trailing_markouts(self, type_: str, horizon: str, n: int) -> list[float]:
        """The ``n`` newest markouts of a type at a horizon, by alert time."""
        rows = self._db.execute("select mid from markouts where type = ? and horizon = ? order by alert_ts desc "
                                "limit ?", (type_, horizon, n)).fetchall()
        return [float(r[0]) for r in rows]
