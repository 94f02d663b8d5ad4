#!/usr/bin/env python
"""Implied-vol throughput and accuracy bench for ``spyglass.analytics.black.implied_vol``.

Runs standalone (``python bench/bench_iv.py``), single-threaded. It times our solver on a
SPY-like 0DTE chain side by side with the peers that can be imported (``lbriv``, the Cython
Let's-Be-Rational port, and ``py_vollib_vectorized``; both live in the bench-only virtualenv
``.venv-bench`` described by ``requirements-bench.txt``) and against the "one normalised Black
price evaluation per option" limit measured in the same run: a numba loop that evaluates one
normalised Black price (2 erfc + 1 exp) per option from precomputed ``x = -|ln F/K|`` and
``s = vol sqrt(t)``. No solver that needs at least one price evaluation per option can beat it.

Chain: S=600, strikes 540..660 step 1, calls and puts (242 options), vols from a skewed smile,
9 times from 6.5 h to 5 min (geometric), r=4.5%, q=1.3%. Prices are computed in high precision
(mpmath, when importable) and rounded to double, so the vol that generated them is the reference.
Errors are max |vol - reference| over the options whose vol is recoverable from the double price:
a normal price where 4 ulps of the price move the vol by less than 1e-12 (4*ulp(price)/vega).

One "chain call" = one call of the library on the 242 options of one expiry time (for lbriv, one
call for the calls and one for the puts plus the discounting and /sqrt(t) it needs, since it
works on undiscounted prices and total vol). Timing: after warm-up (compilation), ``--repeat``
rounds of ``--inner`` passes over the 9 chains; per-call time is reported as best-of and median
over rounds. ``--batch N`` adds one call on N random options (F=600, random K, t, vol, call/put;
prices from ``black_price``). Figures vary +-25% run to run: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

try:  # run from a checkout without installing spyglass
    import spyglass  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
from numba import njit  # noqa: E402

from spyglass.analytics.black import black_price, implied_vol  # noqa: E402

SPOT = 600.0
RATE = 0.045
DIV = 0.013
STRIKES = np.arange(540.0, 660.0 + 0.5, 1.0)
MINUTES = np.geomspace(390.0, 5.0, 9)
YEAR_MIN = 365.0 * 24.0 * 60.0
RECOVERABLE_DVOL = 1e-12


# ------------------------------------------------------------------------------------------------
# Workloads
# ------------------------------------------------------------------------------------------------


def smile(k: np.ndarray, tau_min: float) -> np.ndarray:
    """Skewed 0DTE smile in log-moneyness k = ln(K/F).

    ATM vol rises into the close; away from the money the vol grows linearly in the standardised
    moneyness z = k / (atm * sqrt(t)), steeper on the put side, so that far strikes keep small
    but representable prices (|ln(F/K)| / (vol sqrt(t)) tends to 4 on the put wing, 6 on the
    call wing), as real quotes pinned near the minimum tick do (a 5-minute far put prices at a
    few hundred vol points).
    """
    t = tau_min / YEAR_MIN
    atm = 0.12 + 0.06 * math.sqrt(30.0 / max(tau_min, 1.0))
    z = k / (atm * math.sqrt(t))
    wing = np.where(z < 0.0, 0.25, 1.0 / 6.0)
    return atm * np.sqrt(1.0 + (wing * z) ** 2) * (1.0 - 0.1 * np.tanh(z))


def _prices_hp(fwd, strike, t, rate, vol, is_call):
    """High-precision discounted Black prices, rounded to double (mpmath if available)."""
    try:
        import mpmath as mp
    except ImportError:
        n = strike.shape[0]
        return black_price(np.full(n, fwd), strike, np.full(n, t), np.full(n, rate), vol, is_call), False
    mp.mp.dps = 40
    out = np.empty(strike.shape[0])
    f = mp.mpf(fwd)
    tt = mp.mpf(t)
    df = mp.exp(-mp.mpf(rate) * tt)
    for i in range(strike.shape[0]):
        k = mp.mpf(float(strike[i]))
        sd = mp.mpf(float(vol[i])) * mp.sqrt(tt)
        d1 = mp.log(f / k) / sd + sd / 2
        d2 = d1 - sd
        if is_call[i]:
            v = df * (f * mp.ncdf(d1) - k * mp.ncdf(d2))
        else:
            v = df * (k * mp.ncdf(-d2) - f * mp.ncdf(-d1))
        out[i] = float(v)
    return out, True


def make_chunk(fwd, strike, t, vol, is_call, price):
    """One call's inputs. Options are ordered calls first, then puts (lbriv takes them apart)."""
    n = strike.size
    n_calls = int(is_call.sum())
    assert is_call[:n_calls].all() and not is_call[n_calls:].any()
    sd = vol * np.sqrt(t)
    d1 = np.log(fwd / strike) / sd + 0.5 * sd
    vega = np.exp(-RATE * t) * fwd * np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) * np.sqrt(t)
    with np.errstate(all="ignore"):
        recoverable = (price > 1e-290) & (4.0 * np.spacing(price) / vega < RECOVERABLE_DVOL)
    return dict(
        n=n,
        n_calls=n_calls,
        fwd=float(fwd),
        price=price,
        forward=np.full(n, fwd),
        strike=strike,
        tt=t,
        rate=np.full(n, RATE),
        is_call=is_call,
        flag=np.where(is_call, "c", "p"),
        vol=vol,
        recoverable=recoverable,
        x=-np.abs(np.log(fwd / strike)),  # inputs of the limit kernel
        s=sd,
    )


def make_chains():
    chains = []
    hp_all = True
    for tau_min in MINUTES:
        t = tau_min / YEAR_MIN
        fwd = SPOT * math.exp((RATE - DIV) * t)
        strike = np.concatenate([STRIKES, STRIKES])
        is_call = np.concatenate([np.ones(STRIKES.size, bool), np.zeros(STRIKES.size, bool)])
        vol = smile(np.log(strike / fwd), tau_min)
        price, hp = _prices_hp(fwd, strike, t, RATE, vol, is_call)
        hp_all &= hp
        chunk = make_chunk(fwd, strike, np.full(strike.size, t), vol, is_call, price)
        chunk["tau_min"] = tau_min
        chains.append(chunk)
    return chains, hp_all


def make_batch(n, seed=1):
    rng = np.random.default_rng(seed)
    fwd = SPOT
    t = np.exp(rng.uniform(np.log(1.0), np.log(390.0), n)) / YEAR_MIN
    vol = np.exp(rng.uniform(np.log(0.08), np.log(2.0), n))
    strike = np.round(fwd * np.exp(rng.normal(0.0, 2.5, n) * vol * np.sqrt(t)), 2)
    is_call = np.sort(rng.random(n) < 0.5)[::-1].copy()
    price = black_price(np.full(n, fwd), strike, t, np.full(n, RATE), vol, is_call)
    return make_chunk(fwd, strike, t, vol, is_call, price)


# ------------------------------------------------------------------------------------------------
# Implementations: each maps a chunk to annualised vols (NaN or 0 where it has none)
# ------------------------------------------------------------------------------------------------


_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@njit(cache=True)
def one_black_per_option(x, s):
    """The limit: one normalised Black price (2 erfc + 1 exp) per option."""
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        ex2 = math.exp(0.5 * x[i])
        h = x[i] / s[i]
        hs = 0.5 * s[i]
        out[i] = 0.5 * (ex2 * math.erfc(-(h + hs) * _INV_SQRT2) - math.erfc(-(h - hs) * _INV_SQRT2) / ex2)
    return out


def ours(c):
    return implied_vol(c["price"], c["forward"], c["strike"], c["tt"], c["rate"], c["is_call"])


def limit(c):
    return one_black_per_option(c["x"], c["s"])


def make_lbriv():
    import lbriv

    vivs = lbriv.vectorized_implied_vol_strikes

    def run(c):
        tt = c["tt"]
        und = c["price"] * np.exp(RATE * tt)
        m = c["n_calls"]
        out = np.empty(c["n"])
        out[:m] = vivs(und[:m], c["fwd"], c["strike"][:m], 1)
        out[m:] = vivs(und[m:], c["fwd"], c["strike"][m:], -1)
        return out / np.sqrt(tt)

    return run


def make_pvv():
    import warnings

    import py_vollib_vectorized as pvv

    fn = pvv.vectorized_implied_volatility_black

    def run(c):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(c["price"], c["forward"], c["strike"], c["rate"], c["tt"], c["flag"], return_as="numpy", on_error="ignore")

    return run


# ------------------------------------------------------------------------------------------------
# Measurement
# ------------------------------------------------------------------------------------------------


def time_impl(fn, chunks, repeat, inner):
    """Per-call seconds: best and median over `repeat` rounds of `inner` passes over all chunks."""
    per_call = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            for c in chunks:
                fn(c)
        per_call.append((time.perf_counter() - t0) / (inner * len(chunks)))
    per_call.sort()
    return per_call[0], per_call[len(per_call) // 2]


def errors(fn, chunks):
    worst = 0.0
    nan_rec = 0
    nan_all = 0
    zero_all = 0
    for c in chunks:
        v = np.asarray(fn(c), dtype=float)
        rec = c["recoverable"]
        bad = ~np.isfinite(v) | (v == 0)
        nan_all += int((~np.isfinite(v)).sum())
        zero_all += int((v == 0).sum())
        nan_rec += int((bad & rec).sum())
        ok = rec & ~bad
        if ok.any():
            worst = max(worst, float(np.max(np.abs(v[ok] - c["vol"][ok]))))
    return worst, nan_rec, nan_all, zero_all


def run_table(title, chunks, impls, repeat, inner_of):
    n_opt = chunks[0]["n"]
    n_rec = sum(int(c["recoverable"].sum()) for c in chunks)
    print(f"\n{title}: {n_opt} options per call x {len(chunks)} calls, {n_rec} options with recoverable vol")
    results = {}
    for name, fn in impls:
        inner = inner_of(name)
        t0 = time.perf_counter()
        for c in chunks:  # warm-up: compile / load caches
            fn(c)
        first = time.perf_counter() - t0
        for _ in range(2):
            for c in chunks:
                fn(c)
        best, med = time_impl(fn, chunks, repeat, inner)
        err = (float("nan"), 0, 0, 0) if name.startswith("limit") else errors(fn, chunks)
        results[name] = (best, med, err, first)

    ob = results["spyglass implied_vol"][0]
    hdr = (
        f"{'implementation':<27} {'opts/s best':>11} {'opts/s med':>10} {'us/call best':>12} {'us/call med':>11} "
        f"{'ours/it':>7} {'max|err|':>8} {'bad rec':>7} {'NaN/0 all':>9} {'1st call s':>10}"
    )
    print(hdr)
    print("-" * len(hdr))
    for name, (best, med, err, first) in results.items():
        e, nan_rec, nan_all, zero_all = err
        es = "-" if math.isnan(e) else f"{e:.1e}"
        print(
            f"{name:<27} {n_opt / best / 1e6:>10.2f}M {n_opt / med / 1e6:>9.2f}M {best * 1e6:>12.1f} {med * 1e6:>11.1f} "
            f"{best / ob:>7.2f} {es:>8} {nan_rec:>7} {f'{nan_all}/{zero_all}':>9} {first:>10.2f}"
        )
    lim = results["limit: 1 Black eval/option"][0]
    print(f"ours / limit (best): {lim / ob:.1%}  (target >= 25%)", end="")
    for name, target in (("lbriv", 2.0), ("py_vollib_vectorized", 5.0)):
        if name in results:
            print(f";  ours / {name}: {results[name][0] / ob:.2f}x (target >= {target:g}x)", end="")
    print()
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15, help="timing rounds (best-of / median)")
    ap.add_argument("--inner", type=int, default=20, help="passes over the 9 chains per round (fast libs)")
    ap.add_argument("--batch", type=int, default=0, help="also time one call on N random options")
    args = ap.parse_args(argv)

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} cpus (single thread used)"
    )
    chains, hp = make_chains()
    print(f"chain prices from {'mpmath (40 digits)' if hp else 'float64 black_price (mpmath missing)'}")

    impls = [("spyglass implied_vol", ours), ("limit: 1 Black eval/option", limit)]
    for name, maker in (("lbriv", make_lbriv), ("py_vollib_vectorized", make_pvv)):
        try:
            impls.append((name, maker()))
        except Exception as exc:  # noqa: BLE001 - a missing peer must not stop the bench
            print(f"peer {name}: not available ({type(exc).__name__}: {exc}); skipped")

    slow = {"py_vollib_vectorized"}
    run_table(
        "SPY 0DTE chain", chains, impls, args.repeat, lambda name: max(1, args.inner // 4) if name in slow else args.inner
    )
    if args.batch > 0:
        batch = [make_batch(args.batch)]
        run_table("random batch", batch, impls, max(3, args.repeat // 3), lambda name: 1)
    print(
        "\nours/it: our options/s divided by its options/s (so the limit row is ours/limit). max|err|: "
        "vs the generating vol over recoverable options; 'bad rec': recoverable options returned as "
        "NaN/0; 'NaN/0 all': non-finite / zero outputs over all options; '1st call s': first pass "
        "over the chains, including any compilation or cache load."
    )


if __name__ == "__main__":
    main()
