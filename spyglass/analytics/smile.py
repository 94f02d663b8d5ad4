"""The smile: a robust, spread- and vega-weighted spline fit, one per snapshot.

Model: implied vol as a cubic B-spline in standardised moneyness
z = ln(K/F) / (atm_vol * sqrt(t)), which keeps one shape across the day as
0DTE time collapses. Knots are uniform in z, with a second-difference penalty
so that sparse wings interpolate smoothly instead of wiggling.

Fit, in three stages:
1. Vol space: weighted least squares of market mid IVs, each weighted by
   (vega / half-spread)^2, i.e. residuals measured in half-spreads.
2. Robustness: iteratively reweighted with Tukey's bisquare on residuals in
   half-spreads, so the anomalies themselves do not bend the fit.
3. Price space: Gauss-Newton polish on (mid - model price) / half-spread,
   exact where IV is ill-conditioned (the last ~20 minutes, penny quotes).
Arbitrage check: fitted call prices must fall and be convex in strike; if not,
the penalty is raised and the fit repeated. The flag is reported.
Fallback: with too few two-sided quotes the penalty becomes very large, which
collapses the spline to a straight line in z (a flat smile with one point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from spyglass.analytics.black import implied_vol_scalar, norm_cdf

Z_MIN = -6.0
Z_MAX = 6.0
Z_STEP = 1.0
N_INTERVALS = int(round((Z_MAX - Z_MIN) / Z_STEP))
N_COEF = N_INTERVALS + 3
MIN_VOL = 0.005
BISQUARE_C = 4.685  # half-spreads: quotes further than this from the fit carry no weight
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True)
def _basis(z: float, out: np.ndarray, lo: float, hi: float) -> int:
    """Uniform cubic B-spline values at z clamped to [lo, hi]; returns the first of 4 nonzero indices.

    Clamping makes the smile flat beyond the quoted range: no quotes, no shape.
    """
    z = min(max(z, lo, Z_MIN), hi, Z_MAX - 1e-9)
    x = (z - Z_MIN) / Z_STEP
    i = int(math.floor(x))
    u = x - i
    u2 = u * u
    u3 = u2 * u
    out[0] = (1.0 - u) ** 3 / 6.0
    out[1] = (3.0 * u3 - 6.0 * u2 + 4.0) / 6.0
    out[2] = (-3.0 * u3 + 3.0 * u2 + 3.0 * u + 1.0) / 6.0
    out[3] = u3 / 6.0
    return i


@njit(cache=True)
def spline_vol(z: np.ndarray, coef: np.ndarray, lo: float, hi: float) -> np.ndarray:
    n = z.shape[0]
    out = np.empty(n)
    b = np.empty(4)
    for k in range(n):
        i = _basis(z[k], b, lo, hi)
        v = b[0] * coef[i] + b[1] * coef[i + 1] + b[2] * coef[i + 2] + b[3] * coef[i + 3]
        out[k] = max(v, MIN_VOL)
    return out


@njit(cache=True)
def _price_vega(forward: float, strike: float, t: float, df: float, vol: float, is_call: bool):
    s = vol * math.sqrt(t)
    d1 = math.log(forward / strike) / s + 0.5 * s
    d2 = d1 - s
    if is_call:
        p = df * (forward * norm_cdf(d1) - strike * norm_cdf(d2))
    else:
        p = df * (strike * norm_cdf(-d2) - forward * norm_cdf(-d1))
    vega = df * forward * _INV_SQRT_2PI * math.exp(-0.5 * d1 * d1) * math.sqrt(t)
    return p, vega


@njit(cache=True)
def _bisquare(r: float, c: float) -> float:
    a = r / c
    if abs(a) >= 1.0:
        return 0.0
    w = 1.0 - a * a
    return w * w


@njit(cache=True)
def _penalty(order: int) -> np.ndarray:
    """D'D for differences of the given order: 2 leaves lines free, 1 leaves only constants free."""
    p = np.zeros((N_COEF, N_COEF))
    for j in range(N_COEF - order):
        d = np.zeros(N_COEF)
        if order == 2:
            d[j], d[j + 1], d[j + 2] = 1.0, -2.0, 1.0
        else:
            d[j], d[j + 1] = -1.0, 1.0
        p += np.outer(d, d)
    return p


_SMOOTH = _penalty(2)
_FLAT = _penalty(1)


@njit(cache=True)
def _solve(a: np.ndarray, g: np.ndarray, coef: np.ndarray, pen: np.ndarray, lam_rel: float) -> np.ndarray:
    """Penalised normal equations; a small ridge keeps them solvable when no quote carries weight."""
    tr = 0.0
    for j in range(N_COEF):
        tr += a[j, j]
    scale = tr / N_COEF
    lam = lam_rel * scale + 1e-12
    lhs = a + lam * pen
    rhs = g - lam * (pen @ coef)
    for j in range(N_COEF):
        lhs[j, j] += 1e-9 * scale + 1e-12
    return np.linalg.solve(lhs, rhs)


@njit(cache=True)
def _screen_weights(z, mid_iv, scale, use_iv, c):
    """Initial robust weights: each quote against the median IV of its nearest neighbours in z.

    A smile is smooth, so an isolated quote far from its neighbours starts with
    no weight and cannot bend the first least-squares pass.
    """
    idx = np.flatnonzero(use_iv)
    order = idx[np.argsort(z[idx])]
    m = order.shape[0]
    w = np.ones(z.shape[0])
    buf = np.empty(4)
    for a in range(m):
        cnt = 0
        for b in range(max(0, a - 2), min(m, a + 3)):
            if b != a:
                buf[cnt] = mid_iv[order[b]]
                cnt += 1
        if cnt < 2:
            continue
        srt = np.sort(buf[:cnt])
        med = srt[cnt // 2] if cnt % 2 else 0.5 * (srt[cnt // 2 - 1] + srt[cnt // 2])
        w[order[a]] = _bisquare((mid_iv[order[a]] - med) * scale[order[a]], c)
    return w


@njit(cache=True)
def fit_smile_kernel(
    z, strike, is_call, mid, half_spread, mid_iv, use_iv, use_price,
    forward, t, rate, start, lam_rel, bisquare_c, vol_iters, price_iters, lo, hi, pen,
):
    """Returns (coef, robust weights, residuals in half-spreads at the fair value, robust loss)."""
    n = z.shape[0]
    df = math.exp(-rate * t)
    coef = start.copy()
    weight = np.ones(n)
    resid = np.zeros(n)
    b = np.empty(4)
    # vega at the market IV makes the vol-space residual a half-spread residual
    scale = np.zeros(n)
    for k in range(n):
        if use_iv[k]:
            _, vg = _price_vega(forward, strike[k], t, df, mid_iv[k], is_call[k])
            scale[k] = vg / half_spread[k]
    screen = _screen_weights(z, mid_iv, scale, use_iv, 2.0 * bisquare_c)
    for it in range(vol_iters):
        a = np.zeros((N_COEF, N_COEF))
        g = np.zeros(N_COEF)
        for k in range(n):
            if not use_iv[k] or scale[k] <= 0.0:
                continue
            i = _basis(z[k], b, lo, hi)
            fit = b[0] * coef[i] + b[1] * coef[i + 1] + b[2] * coef[i + 2] + b[3] * coef[i + 3]
            r = (mid_iv[k] - fit) * scale[k]
            resid[k] = r
            w = screen[k] if it == 0 else _bisquare(r, bisquare_c)
            weight[k] = w
            if w == 0.0:
                continue
            ws2 = w * scale[k] * scale[k]
            for p in range(4):
                g[i + p] += ws2 * b[p] * (mid_iv[k] - fit)
                for q in range(4):
                    a[i + p, i + q] += ws2 * b[p] * b[q]
        coef = coef + _solve(a, g, coef, pen, lam_rel)
        for j in range(N_COEF):
            coef[j] = max(coef[j], MIN_VOL)
    for it in range(price_iters):
        a = np.zeros((N_COEF, N_COEF))
        g = np.zeros(N_COEF)
        for k in range(n):
            if not use_price[k]:
                continue
            i = _basis(z[k], b, lo, hi)
            vol = max(b[0] * coef[i] + b[1] * coef[i + 1] + b[2] * coef[i + 2] + b[3] * coef[i + 3], MIN_VOL)
            p, vg = _price_vega(forward, strike[k], t, df, vol, is_call[k])
            r = (mid[k] - p) / half_spread[k]
            resid[k] = r
            # after a vol-space start, a wide first pass: a rough start must not reject the
            # quotes that carry the information
            w = _bisquare(r, bisquare_c * (3.0 if it == 0 and vol_iters > 0 else 1.0))
            weight[k] = w
            if w == 0.0:
                continue
            jac = vg / half_spread[k]
            for pp in range(4):
                g[i + pp] += w * jac * b[pp] * r
                for q in range(4):
                    a[i + pp, i + q] += w * jac * jac * b[pp] * b[q]
        step = _solve(a, g, coef, pen, lam_rel)
        for j in range(N_COEF):
            step[j] = min(max(step[j], -0.05), 0.05)
            coef[j] = max(coef[j] + step[j], MIN_VOL)
    # final residuals at the fitted fair value, and the robust (bisquare) loss they give
    loss = 0.0
    c2 = bisquare_c * bisquare_c / 6.0
    for k in range(n):
        if use_price[k]:
            i = _basis(z[k], b, lo, hi)
            vol = max(b[0] * coef[i] + b[1] * coef[i + 1] + b[2] * coef[i + 2] + b[3] * coef[i + 3], MIN_VOL)
            p, _ = _price_vega(forward, strike[k], t, df, vol, is_call[k])
            r = (mid[k] - p) / half_spread[k]
            resid[k] = r
            a = r / bisquare_c
            loss += c2 * (1.0 - (1.0 - a * a) ** 3) if abs(a) < 1.0 else c2
    return coef, weight, resid, loss


@dataclass(frozen=True, slots=True)
class SmileFit:
    """A fitted smile for one snapshot; ``vol`` and ``z`` evaluate it at any strike."""

    forward: float
    t: float
    rate: float
    atm_vol: float
    coef: np.ndarray
    z_lo: float  # the smile is flat outside the quoted range [z_lo, z_hi]
    z_hi: float
    points: int  # quotes that carried weight in the final fit
    rms_half_spreads: float  # weighted RMS residual of the fitted points
    space: str  # "iv" normally, "price" in the last minutes before the close
    arbitrage_free: bool
    method: str  # "spline" | "line" | "flat" (too few quotes for a shape) | "none"

    @property
    def ok(self) -> bool:
        return self.method != "none"

    def z(self, strike: np.ndarray) -> np.ndarray:
        return np.log(strike / self.forward) / (self.atm_vol * math.sqrt(self.t))

    def vol(self, strike: np.ndarray) -> np.ndarray:
        return spline_vol(self.z(np.asarray(strike, dtype=np.float64)), self.coef, self.z_lo, self.z_hi)

    def vol_at_moneyness(self, k: np.ndarray) -> np.ndarray:
        """Fitted vol at log-moneyness ln(K/F): the form that carries over to the next snapshot."""
        return spline_vol(k / (self.atm_vol * math.sqrt(self.t)), self.coef, self.z_lo, self.z_hi)

    def prior(self) -> dict | None:
        """What the next snapshot needs to warm-start from this smile (JSON-safe)."""
        if not self.ok:
            return None
        return {"atm_vol": self.atm_vol, "t": self.t, "coef": self.coef.tolist(), "z_lo": self.z_lo, "z_hi": self.z_hi}


def _warm_start(prior: dict, atm_vol: float, t: float) -> np.ndarray:
    """The previous smile, as a function of log-moneyness, sampled at this snapshot's knots."""
    knots_z = Z_MIN + (np.arange(N_COEF) - 1.0) * Z_STEP  # where each B-spline coefficient peaks
    k = knots_z * atm_vol * math.sqrt(t)
    z_prev = k / (prior["atm_vol"] * math.sqrt(prior["t"]))
    return spline_vol(z_prev, np.asarray(prior["coef"], dtype=np.float64), prior["z_lo"], prior["z_hi"])


def fit_smile(
    strike: np.ndarray,
    is_call: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    mid_iv: np.ndarray,
    forward: float,
    t: float,
    rate: float,
    *,
    tick: float,
    near_close: bool,
    min_price: float,
    prior: dict | None = None,
) -> SmileFit:
    """Fit one snapshot's smile from its two-sided quotes (calls and puts together).

    Out-of-the-money quotes and the strikes next to the forward carry the fit:
    in-the-money quotes add only noise and, for American puts, an early-exercise
    premium. ``prior`` is the previous snapshot's ``SmileFit.prior()``: a start
    that a new anomaly has not bent.
    """
    mid = 0.5 * (bid + ask)
    half = np.maximum(0.5 * (ask - bid), 0.5 * tick)
    with np.errstate(invalid="ignore"):
        otm = np.where(is_call, strike >= forward, strike <= forward)
        near = np.abs(np.log(strike / forward)) <= 0.0025
        usable = np.isfinite(mid) & (bid > 0) & (ask >= bid) & (otm | near)
        # vol space: out-of-the-money quotes only (in-the-money IVs are noise near the close);
        # penny quotes are kept, their vega/spread weight is already small
        use_iv = usable & otm & np.isfinite(mid_iv) & (mid >= min(min_price, 2.0 * tick))
    atm_vol = atm_level(strike, is_call, bid, ask, forward, t, rate)
    if not math.isfinite(atm_vol):
        atm_vol = _median_nearest(strike, forward, mid_iv, use_iv)
    if not math.isfinite(atm_vol) or t <= 0:
        return SmileFit(forward, t, rate, math.nan, np.full(N_COEF, math.nan), 0.0, 0.0, 0, math.nan, "iv", False, "none")
    z = np.log(strike / forward) / (atm_vol * math.sqrt(t))
    z_lo, z_hi = float(z[usable].min()), float(z[usable].max())
    left = int((usable & (strike < forward)).sum())
    right = int((usable & (strike > forward)).sum())
    if left + right >= 5 and min(left, right) >= 2:
        method, lam, pen = "spline", 1e-3, _SMOOTH
    elif min(left, right) >= 1:
        method, lam, pen = "line", 1e6, _SMOOTH
    else:
        method, lam, pen = "flat", 1e6, _FLAT
    space = "price" if near_close else "iv"
    listed = np.unique(strike)
    # two starts, keep the lower robust loss: the vol-space fit, and a flat smile at the
    # median IV of the quotes around the forward (robust when a few quotes carry the fit)
    # a third start, the previous snapshot's smile, wins ties: it must be beaten by at least one more
    # quote explained (the loss of one rejected quote, c^2/6), so the smile does not flip between
    # equally good fits from one second to the next
    starts = [(np.full(N_COEF, atm_vol), 4, 0.0)]
    flat = _median_nearest(strike, forward, mid_iv, usable & np.isfinite(mid_iv), count=6)
    if math.isfinite(flat):
        starts.append((np.full(N_COEF, flat), 0, 0.0))
    if prior is not None and prior["t"] > 0:
        starts.append((_warm_start(prior, atm_vol, t), 0, BISQUARE_C**2 / 6.0))
    for _ in range(3):
        best, best_loss = None, math.inf
        try:
            for start, vol_iters, bonus in starts:
                fit = fit_smile_kernel(
                    z, strike, is_call, np.nan_to_num(mid), half, np.nan_to_num(mid_iv), use_iv, usable,
                    forward, t, rate, start, lam, BISQUARE_C, vol_iters, 3, z_lo, z_hi, pen,
                )
                if fit[3] - bonus < best_loss:
                    best, best_loss = fit, fit[3] - bonus
        except np.linalg.LinAlgError:  # degenerate quotes: report no fit rather than fail the snapshot
            return SmileFit(forward, t, rate, atm_vol, np.full(N_COEF, math.nan), z_lo, z_hi, 0, math.nan, space,
                            False, "none")
        coef, weight, resid, _ = best
        arb_free = _calls_arbitrage_free(listed, forward, t, rate, atm_vol, coef, z_lo, z_hi)
        if arb_free:
            break
        lam *= 10.0
    w = weight[usable]
    r = resid[usable]
    fitted = w > 0
    rms = float(np.sqrt(np.sum(w * r * r) / max(np.sum(w), 1e-12))) if fitted.any() else math.nan
    return SmileFit(forward, t, rate, atm_vol, coef, z_lo, z_hi, int(fitted.sum()), rms, space, arb_free, method)


def atm_level(strike, is_call, bid, ask, forward: float, t: float, rate: float) -> float:
    """ATM implied vol from the two strikes around the forward, each leg pair merged through parity.

    For a strike with both legs quoted, the in-the-money leg less its discounted
    intrinsic value is a second quote of the out-of-the-money option; the two
    are averaged by inverse squared half-spread. This stays well-conditioned in
    the last minutes, when single in-the-money IVs are noise.
    """
    df = math.exp(-rate * t)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid)
    calls = np.flatnonzero(is_call & ok)
    puts = np.flatnonzero(~is_call & ok)
    k, ic, ip = np.intersect1d(strike[calls], strike[puts], assume_unique=True, return_indices=True)
    if k.size == 0:
        return math.nan
    below = np.flatnonzero(k <= forward)
    above = np.flatnonzero(k >= forward)
    picks = [j for j in (below[-1] if below.size else None, above[0] if above.size else None) if j is not None]
    vols, dist = [], []
    for j in dict.fromkeys(picks):
        c, p = calls[ic[j]], puts[ip[j]]
        otm, itm = (c, p) if k[j] >= forward else (p, c)
        w_o = 1.0 / max(ask[otm] - bid[otm], 1e-4) ** 2
        w_i = 1.0 / max(ask[itm] - bid[itm], 1e-4) ** 2
        price = (w_o * 0.5 * (bid[otm] + ask[otm]) + w_i * (0.5 * (bid[itm] + ask[itm]) - df * abs(forward - k[j])))
        price /= w_o + w_i
        v = implied_vol_scalar(price, forward, k[j], t, rate, bool(is_call[otm]))
        if math.isfinite(v):
            vols.append(v)
            dist.append(abs(math.log(k[j] / forward)))
    if not vols:
        return math.nan
    if len(vols) == 1 or dist[0] + dist[1] == 0:
        return float(vols[0])
    return float((vols[0] * dist[1] + vols[1] * dist[0]) / (dist[0] + dist[1]))


def _median_nearest(strike: np.ndarray, forward: float, mid_iv: np.ndarray, use: np.ndarray, count: int = 4) -> float:
    idx = np.flatnonzero(use)
    if idx.size == 0:
        return math.nan
    nearest = idx[np.argsort(np.abs(strike[idx] - forward), kind="stable")[:count]]
    return float(np.median(mid_iv[nearest]))


@njit(cache=True)
def _calls_arbitrage_free(strikes, forward, t, rate, atm_vol, coef, lo, hi) -> bool:
    """Fitted call prices on the listed strikes (sorted, unique) must fall and be convex in strike."""
    n = strikes.shape[0]
    if n < 3:
        return True
    df = math.exp(-rate * t)
    sd = atm_vol * math.sqrt(t)
    b = np.empty(4)
    c = np.empty(n)
    for k in range(n):
        i = _basis(math.log(strikes[k] / forward) / sd, b, lo, hi)
        vol = max(b[0] * coef[i] + b[1] * coef[i + 1] + b[2] * coef[i + 2] + b[3] * coef[i + 3], MIN_VOL)
        c[k], _ = _price_vega(forward, strikes[k], t, df, vol, True)
    tol = 1e-9 * forward
    prev_slope = -np.inf
    for k in range(n - 1):
        slope = (c[k + 1] - c[k]) / (strikes[k + 1] - strikes[k])
        if slope > tol or slope < prev_slope - tol:
            return False
        prev_slope = slope
    return True
