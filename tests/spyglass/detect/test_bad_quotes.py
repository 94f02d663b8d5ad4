"""Quotes that are not prices: frozen lines and bad prints are data errors that move nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from spyglass.session import ScoringSession
from tests.spyglass.chainkit import T0, ChainKit

BLOCK = [("C", k) for k in (599, 600, 601, 602)] + [("P", k) for k in (598, 599, 600, 601)]


def run(kit, seconds, mutate_at, *, move=None, session=None):
    """Stream ``seconds`` snapshots; ``mutate_at(s)`` gives the mutation for second s (or None); ``move(s)`` the spot."""
    session = session or ScoringSession()
    by_second = []
    for s in range(seconds):
        if move is not None:
            kit.spot = move(s)
        snap = kit.snapshot(T0 + np.timedelta64(s, "s").item(), mutate=mutate_at(s))
        by_second.append(session.feed(snap).anomalies)
    return by_second


def freeze(kit, lines, start, *, with_age):
    """From second ``start`` the lines keep the quotes they had then; with ages when asked."""
    idx = [kit.index(r, k) for r, k in lines]
    held = {}

    def at(s):
        if s < start:
            return None

        def mutate(q, *_):
            if not held:
                held.update({i: (q["bid"][i], q["ask"][i]) for i in idx})
            for i in idx:
                q["bid"][i], q["ask"][i] = held[i]
                if with_age:
                    q["age"][i] = (s - start) * 1000.0 + 400.0
            if with_age:
                q["age"][np.isnan(q["age"])] = 150.0
        return mutate

    return at


@pytest.mark.parametrize("with_age", [True, False], ids=["quote_age_ms", "inferred"])
def test_a_frozen_block_is_one_data_error_per_line_and_no_market_alert_anywhere(with_age):
    kit = ChainKit(seed=4)
    # spot climbs 1.20 over two minutes while a near-the-money block stays frozen
    found = run(kit, 150, freeze(kit, BLOCK, 20, with_age=with_age), move=lambda s: 600.0 + 0.01 * max(0, s - 20))
    flat = [a for snap in found for a in snap]
    assert [a for a in flat if a.type != "data_error"] == []
    stale = [a for a in flat if a.evidence.get("subtype") == "stale_quote"]
    # once per line and episode; the lines far enough from the money to notice (delta) are all reported
    keys = [(a.right, a.strike) for a in stale]
    assert len(keys) == len(set(keys)) and len(keys) >= 6 and set(keys) <= set(BLOCK)
    assert all(a.evidence["age_source"] == ("quote_age_ms" if with_age else "inferred") for a in stale)
    assert all(a.evidence["age_s"] >= 5 for a in stale)
    # the forward follows the fresh quotes, not the frozen pairs at the money
    notes = found[-1][0].data_quality["notes"] if found[-1] else []
    assert not found[-1] or any("stale" in n for n in notes)


def test_a_frozen_line_that_ticks_again_ends_its_episode_and_a_new_freeze_is_reported_again():
    kit = ChainKit(seed=4)
    first = freeze(kit, [("C", 600)], 10, with_age=False)
    second = freeze(kit, [("C", 600)], 80, with_age=False)

    def at(s):
        return first(s) if s < 60 else second(s) if s >= 80 else None

    found = run(kit, 140, at, move=lambda s: 600.0 + 0.02 * s)
    stale = [(a.strike, a.evidence["subtype"]) for snap in found for a in snap if a.type == "data_error"]
    assert stale == [(600.0, "stale_quote"), (600.0, "stale_quote")]


def test_a_quote_unchanged_while_the_market_stands_still_is_not_stale():
    kit = ChainKit(seed=4)
    found = run(kit, 90, freeze(kit, BLOCK, 10, with_age=True))
    assert [a for snap in found for a in snap] == []


def test_a_quote_the_source_keeps_refreshing_is_fresh_even_if_its_prices_do_not_change():
    kit = ChainKit(seed=4)
    frozen = freeze(kit, BLOCK, 10, with_age=False)

    def at(s):
        m = frozen(s)
        if m is None:
            return None

        def mutate(q, *a):
            m(q, *a)
            q["age"][:] = 200.0  # every line ticked a moment ago

        return mutate

    found = run(kit, 60, at, move=lambda s: 600.0 + 0.01 * s)
    # the unchanged quotes are prices the source confirmed: the market rules judge them, nothing calls them stale
    assert not [a for snap in found for a in snap if a.evidence.get("subtype") == "stale_quote"]


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("bid many times fair", lambda b, a, f: (round(10 * f, 2), round(10 * f + 0.05, 2))),
        ("decimal slip down", lambda b, a, f: (round(b / 10, 2), round(a / 10, 2))),
        ("one-line IV spike", None),
    ],
)
def test_one_bad_line_is_one_data_error_and_moves_nothing_in_that_snapshot_or_the_next(name, bad):
    kit = ChainKit(seed=6)
    i = kit.index("P", 597)

    def at(s):
        if s != 20:
            return None

        def mutate(q, k, call, fair):
            if bad is None:  # both sides repriced 50 vol points above the smile
                from spyglass.analytics.black import black_price
                t, fwd, *_ , vol, _ = kit.arrays(T0 + np.timedelta64(20, "s").item())
                p = black_price(np.array([fwd]), k[i:i + 1], np.array([t]), np.array([kit.rate]),
                                vol[i:i + 1] + 0.5, call[i:i + 1])[0]
                q["bid"][i], q["ask"][i] = round(p - 0.02, 2), round(p + 0.02, 2)
            else:
                q["bid"][i], q["ask"][i] = bad(q["bid"][i], q["ask"][i], fair[i])
        return mutate

    found = run(kit, 40, at)
    flat = [a for snap in found for a in snap]
    assert [(a.type, a.right, a.strike, a.evidence["subtype"]) for a in flat] == [("data_error", "P", 597.0, "outlier")]
    assert found[20] == flat  # reported with the snapshot that carried it, nothing when the quote comes back


def test_a_penny_wing_quote_is_never_an_outlier():
    kit = ChainKit(seed=6, width=40)
    i = kit.index("C", 636)  # worth well under a cent

    def at(s):
        if s != 10:
            return None

        def mutate(q, *_):
            q["bid"][i], q["ask"][i] = 0.01, 0.03
        return mutate

    assert [a for snap in run(kit, 20, at) for a in snap] == []
