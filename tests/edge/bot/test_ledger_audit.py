import os
from datetime import timedelta

from edge.bot import audit
from edge.bot.audit import AuditLog
from edge.bot.ledger import Ledger
from edge.bot.risk import Book
from tests.edge.bot.signals import NOW, TODAY


def test_claim_is_once_and_survives_a_restart(tmp_path):
    db = tmp_path / "ledger.sqlite"
    ledger = Ledger(db)
    assert ledger.claim("a", NOW, NOW) and not ledger.claim("a", NOW, NOW)
    ledger.close()
    again = Ledger(db)
    assert not again.claim("a", NOW, NOW) and again.claim("b", NOW, NOW)


def test_book_counts_live_orders_only(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.record_order("a", TODAY, "debit_vertical", 2, 0.4, 41.3, "Submitted", 1)
    ledger.record_order("b", TODAY, "credit_vertical", 1, -0.5, 51.3, "Submitted", 2)
    ledger.record_order("c", TODAY - timedelta(days=1), "debit_vertical", 1, 0.4, 41.3, "Filled", 3)
    ledger.record_order("d", TODAY, "vertical", 1, -0.1, -8.7, "Filled", 4)  # an arbitrage: no risk
    assert ledger.book(TODAY).open_positions == 3
    assert ledger.book(TODAY).committed_loss == 41.3 * 2 + 51.3
    ledger.update_status("b", "Cancelled")
    assert ledger.book(TODAY).open_positions == 2 and ledger.order("b")["status"] == "Cancelled"
    ledger.record_order("e", TODAY, "debit_vertical", 1, 0.4, 41.3, "Shadow", None)
    assert ledger.book(TODAY).open_positions == 2  # shadow positions are not real ones
    assert ledger.book(TODAY, shadow=True) == Book(1, 41.3)


def test_mark_only_moves_forward(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    assert ledger.mark() is None
    ledger.advance_mark(NOW)
    ledger.advance_mark(NOW - timedelta(minutes=5))
    assert ledger.mark() == NOW


def test_audit_is_append_only_json_lines(tmp_path):
    path = tmp_path / "a" / "audit.jsonl"
    AuditLog(path, "shadow").write("skipped", signal_id="x", reason="stale")
    AuditLog(path, "paper").write("placed", signal_id="y", order={"order_id": 3})
    with open(path, "ab") as f:  # a torn last line from a crash mid-write
        f.write(b'{"event": "pla')
    records = audit.read(path)
    assert [(r["mode"], r["event"], r["signal_id"]) for r in records] == [("shadow", "skipped", "x"),
                                                                         ("paper", "placed", "y")]
    assert records[0]["reason"] == "stale" and records[0]["ts"].endswith("Z")
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"
