"""The smile: a robust, spread- and vega-weighted spline fit, one per snapshot.

Model: implied vol as a cubic B-spline in standardised moneyness
z = ln(K/F) / (atm_vol * sqrt(t)), which keeps one shape across the day as
0DTE time collapses. Knots are uniform in z on [-6, 6], with a second-difference
penalty so that sparse wings interpolate smoothly instead of wiggling. Beyond the
quoted range, or beyond the knots, total variance is extrapolated linearly in z
from the edge (the wing shape of Lee's moment formula). Quotes beyond the knots
(a long weekend's deep wings are quoted two-sided out to |z| of 10 and more) are
fitted through that same extrapolation, so the fit and the smile it reports are
one function: fitted as if they sat at the knots' edge, they lifted the edge and
the smile left the quotes around it.

Fit, in three stages:
1. Vol space: weighted least squares of market mid IVs, each weighted by
   (vega / half-spread)^2, i.e. residuals measured in half-spreads.
2. Robustness: iteratively reweighted with Tukey's bisquare on residuals in
   half-spreads, so the anomalies themselves do not bend the fit.
3. Price space: Gauss-Newton polish on (mid - model price) / half-spread,
   exact where IV is ill-conditioned (the last ~20 minutes, penny quotes).
Three starts compete (vol-space fit, flat at the median IV near the forward,
the previous snapshot's smile); the lowest robust loss wins, the previous smile
winning ties. Arbitrage check: fitted call prices must fall and be convex in
strike; if not, the penalty is raised and the fit repeated; the flag is
reported. Fallback: with too few quotes the spline collapses to a line, or a flat smile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from spyglass.analytics.black import implied_vol_scalar, norm_cdf
from spyglass.analytics.nan import nz

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
    """Uniform cubic B-spline values at z clamped to [lo, hi] and the knots; returns the first of 4 nonzero
    indices. Only ``spline_vol_grad`` calls it, inside that range or at its edge."""
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
def spline_vol_grad(z: float, coef: np.ndarray, lo: float, hi: float, grad: np.ndarray) -> tuple[int, float]:
    """The fitted vol at z and its gradient in the four coefficients that move it.

    Returns (index of the first of those coefficients, vol) and writes the gradient to ``grad``.
    Inside the quoted range [lo, hi] (and the knot grid) the vol is the spline. Beyond it total
    variance continues linearly in moneyness with the edge's slope (C1: no kink, so no spurious
    butterfly arbitrage at the edge), capped at twice the edge vol. The fit uses this same function,
    so a quote beyond the knot grid is fitted by the extrapolation that will price it, not as a quote
    at the grid's edge.
    """
    lo = max(lo, Z_MIN)
    hi = min(hi, Z_MAX - 1e-9)
    if lo <= z <= hi:
        i = _basis(z, grad, lo, hi)
        return i, max(grad[0] * coef[i] + grad[1] * coef[i + 1] + grad[2] * coef[i + 2] + grad[3] * coef[i + 3],
                      MIN_VOL)
    edge = lo if z < lo else hi
    i = _basis(edge, grad, lo, hi)
    u = (edge - Z_MIN) / Z_STEP - i
    d0 = -0.5 * (1 - u) ** 2 / Z_STEP  # the basis functions' slopes at the edge
    d1 = (1.5 * u**2 - 2 * u) / Z_STEP
    d2 = (-1.5 * u**2 + u + 0.5) / Z_STEP
    d3 = 0.5 * u**2 / Z_STEP
    v = grad[0] * coef[i] + grad[1] * coef[i + 1] + grad[2] * coef[i + 2] + grad[3] * coef[i + 3]
    dv = d0 * coef[i] + d1 * coef[i + 1] + d2 * coef[i + 2] + d3 * coef[i + 3]
    if v <= MIN_VOL:  # the edge vol at its floor: only the edge's slope moves the extrapolation
        v = MIN_VOL
        grad[:] = 0.0
    dz = z - edge
    var = v * v + 2.0 * v * dv * dz
    if var >= 4.0 * v * v:  # the cap: twice the edge vol
        for p in range(4):
            grad[p] *= 2.0
        return i, 2.0 * v
    if var <= MIN_VOL * MIN_VOL:
        grad[:] = 0.0
        return i, MIN_VOL
    vol = math.sqrt(var)
    # d var / d c = 2 ((v + dv dz) dv/dc + v dz d(dv)/dc), and d vol = d var / (2 vol)
    grad[0] = ((v + dv * dz) * grad[0] + v * dz * d0) / vol
    grad[1] = ((v + dv * dz) * grad[1] + v * dz * d1) / vol
    grad[2] = ((v + dv * dz) * grad[2] + v * dz * d2) / vol
    grad[3] = ((v + dv * dz) * grad[3] + v * dz * d3) / vol
    return i, vol


@njit(cache=True)
def spline_vol_scalar(z: float, coef: np.ndarray, lo: float, hi: float) -> float:
    """The fitted vol at z (see ``spline_vol_grad``)."""
    return spline_vol_grad(z, coef, lo, hi, np.empty(4))[1]


@njit(cache=True)
def spline_vol(z: np.ndarray, coef: np.ndarray, lo: float, hi: float) -> np.ndarray:
    out = np.empty(z.shape[0])
    for k in range(z.shape[0]):
        out[k] = spline_vol_scalar(z[k], coef, lo, hi)
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
    ridge = 0.0
    for j in range(N_COEF):
        ridge += lhs[j, j]
    ridge = 1e-10 * ridge / N_COEF + 1e-12  # relative to the whole system, penalty included
    for j in range(N_COEF):
        lhs[j, j] += ridge
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
            i, fit = spline_vol_grad(z[k], coef, lo, hi, b)  # b: the gradient (the basis inside the grid)
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
            i, vol = spline_vol_grad(z[k], coef, lo, hi, b)
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
            p, _ = _price_vega(forward, strike[k], t, df, spline_vol_scalar(z[k], coef, lo, hi), is_call[k])
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
    z_lo: float  # the quoted range; beyond it total variance is extrapolated linearly (see _vol)
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
    mid, half, usable, use_iv = _fit_quotes(strike, is_call, bid, ask, mid_iv, forward, tick, min_price)
    atm_vol = atm_level(strike, is_call, bid, ask, forward, t, rate)
    if not math.isfinite(atm_vol):
        atm_vol = _median_nearest(strike, forward, mid_iv, use_iv, 4)
    if not math.isfinite(atm_vol) or t <= 0:
        return SmileFit(forward, t, rate, math.nan, np.full(N_COEF, math.nan), 0.0, 0.0, 0, math.nan, "iv", False, "none")
    z = np.log(strike / forward) / (atm_vol * math.sqrt(t))
    z_lo, z_hi = float(z[usable].min()), float(z[usable].max())
    method, lam, pen = _freedom(strike, forward, usable)
    space = "price" if near_close else "iv"
    starts = _starts(strike, forward, mid_iv, usable, atm_vol, t, prior)
    mid0, iv0 = nz(mid), nz(mid_iv)
    for _ in range(3):
        best = _best_start(starts, z, strike, is_call, mid0, half, iv0, use_iv, usable, forward, t, rate, lam,
                           z_lo, z_hi, pen)
        if best is None:  # no start could be solved: report no fit rather than fail the snapshot
            return SmileFit(forward, t, rate, atm_vol, np.full(N_COEF, math.nan), z_lo, z_hi, 0, math.nan, space,
                            False, "none")
        coef, weight, resid, _ = best
        arb_free = _calls_arbitrage_free(strike, forward, t, rate, atm_vol, coef, z_lo, z_hi, 0.1 * tick)
        if arb_free:
            break
        lam *= 10.0
        starts = [(coef, 0, 0.0)]  # stiffen the winner; the other starts already lost
    w = weight[usable]
    r = resid[usable]
    fitted = w > 0
    rms = float(np.sqrt(np.sum(w * r * r) / max(np.sum(w), 1e-12))) if fitted.any() else math.nan
    return SmileFit(forward, t, rate, atm_vol, coef, z_lo, z_hi, int(fitted.sum()), rms, space, arb_free, method)


def _fit_quotes(strike, is_call, bid, ask, mid_iv, forward: float, tick: float, min_price: float):
    """(mid, half-spread, usable, usable in vol space): the quotes that may carry the fit."""
    mid = 0.5 * (bid + ask)
    half = np.maximum(0.5 * (ask - bid), 0.5 * tick)
    with np.errstate(invalid="ignore"):
        otm = np.where(is_call, strike >= forward, strike <= forward)
        near = np.abs(np.log(strike / forward)) <= 0.0025
        usable = np.isfinite(mid) & (bid > 0) & (ask >= bid) & (otm | near)
        # vol space: out-of-the-money quotes only (in-the-money IVs are noise near the close);
        # penny quotes are kept, their vega/spread weight is already small
        use_iv = usable & otm & np.isfinite(mid_iv) & (mid >= min(min_price, 2.0 * tick))
    return mid, half, usable, use_iv


def _freedom(strike, forward: float, usable) -> tuple[str, float, np.ndarray]:
    """(method, smoothing, penalty): a spline with quotes on both sides, else a line, else flat."""
    left = int((usable & (strike < forward)).sum())
    right = int((usable & (strike > forward)).sum())
    if left + right >= 5 and min(left, right) >= 2:
        return "spline", 1e-3, _SMOOTH
    if min(left, right) >= 1:
        return "line", 1e6, _SMOOTH
    return "flat", 1e6, _FLAT


def _starts(strike, forward: float, mid_iv, usable, atm_vol: float, t: float, prior: dict | None) -> list[tuple]:
    """(start coefficients, vol-space iterations, loss bonus) for each start of the robust fit.

    Two starts, keep the lower robust loss: the vol-space fit, and a flat smile at the
    median IV of the quotes around the forward (robust when a few quotes carry the fit).
    A third start, the previous snapshot's smile, wins ties: another start must explain at least two
    more quotes (more than 1.5x the loss of one rejected quote, c^2/6) to replace it. One quote alone,
    above all the last one on a wing, where the spline's free edge can bend to fit anything, must not
    move the smile off its recent history; a genuine move shifts many quotes together.
    """
    starts = [(np.full(N_COEF, atm_vol), 4, 0.0)]
    flat = _median_nearest(strike, forward, mid_iv, usable, 6)
    if math.isfinite(flat):
        starts.append((np.full(N_COEF, flat), 0, 0.0))
    if prior is not None and prior["t"] > 0:
        starts.append((_warm_start(prior, atm_vol, t), 0, 1.5 * BISQUARE_C**2 / 6.0))
    return starts


def _best_start(starts, z, strike, is_call, mid, half, iv, use_iv, usable, forward, t, rate, lam, z_lo, z_hi, pen):
    """The robust fit of the start with the lowest loss less its bonus; None when no start can be solved.

    Losses are never negative, so a start whose loss is already below its own bonus cannot lose: it is tried
    first and, when it wins that way, the others are not tried at all (the same answer, two fits cheaper)."""
    def solve(start, vol_iters):
        try:
            return fit_smile_kernel(
                z, strike, is_call, mid, half, iv, use_iv, usable,
                forward, t, rate, start, lam, BISQUARE_C, vol_iters, 3, z_lo, z_hi, pen,
            )
        except np.linalg.LinAlgError:  # a degenerate start: the others may still fit
            return None

    fits: dict[int, tuple | None] = {}
    for i, (start, vol_iters, bonus) in enumerate(starts):
        if bonus > 0:
            fits[i] = solve(start, vol_iters)
            if fits[i] is not None and fits[i][3] < bonus:
                return fits[i]
    best, best_loss = None, math.inf
    for i, (start, vol_iters, bonus) in enumerate(starts):  # in order: on a tie the earlier start stays
        fit = fits[i] if i in fits else solve(start, vol_iters)
        if fit is not None and fit[3] - bonus < best_loss:
            best, best_loss = fit, fit[3] - bonus
    return best


@njit(cache=True)
def atm_level(strike, is_call, bid, ask, forward: float, t: float, rate: float) -> float:
    """ATM implied vol from the two strikes around the forward, each leg pair merged through parity.

    For a strike with both legs quoted, the in-the-money leg less its discounted
    intrinsic value is a second quote of the out-of-the-money option; the two
    are averaged by inverse squared half-spread. This stays well-conditioned in
    the last minutes, when single in-the-money IVs are noise. Chains are sorted
    calls then puts by strike.
    """
    df = math.exp(-rate * t)
    n = strike.shape[0]
    below_k, above_k = -math.inf, math.inf
    vol_below, vol_above = math.nan, math.nan
    for i in range(n):
        if not is_call[i] or not (bid[i] > 0.0 and ask[i] >= bid[i]):
            continue
        k = strike[i]
        if not (k <= forward and k > below_k) and not (k >= forward and k < above_k):
            continue
        j = -1
        for m in range(n):  # the put at the same strike
            if not is_call[m] and strike[m] == k and bid[m] > 0.0 and ask[m] >= bid[m]:
                j = m
                break
        if j < 0:
            continue
        otm, itm = (i, j) if k >= forward else (j, i)
        w_o = 1.0 / max(ask[otm] - bid[otm], 1e-4) ** 2
        w_i = 1.0 / max(ask[itm] - bid[itm], 1e-4) ** 2
        price = w_o * 0.5 * (bid[otm] + ask[otm]) + w_i * (0.5 * (bid[itm] + ask[itm]) - df * abs(forward - k))
        v = implied_vol_scalar(price / (w_o + w_i), forward, k, t, rate, is_call[otm])
        if not math.isfinite(v):
            continue
        if k <= forward and k > below_k:
            below_k, vol_below = k, v
        if k >= forward and k < above_k:
            above_k, vol_above = k, v
    if math.isnan(vol_below):
        return vol_above
    if math.isnan(vol_above) or above_k == below_k:
        return vol_below
    d_below = math.log(forward / below_k)
    d_above = math.log(above_k / forward)
    return (vol_below * d_above + vol_above * d_below) / (d_below + d_above)


@njit(cache=True)
def _median_nearest(strike, forward: float, mid_iv, use, count: int) -> float:
    """Median IV of the ``count`` usable quotes nearest the forward."""
    idx = np.flatnonzero(use & (mid_iv == mid_iv))
    if idx.shape[0] == 0:
        return math.nan
    order = np.argsort(np.abs(strike[idx] - forward))[:count]
    return float(np.median(mid_iv[idx[order]]))


@njit(cache=True)
def _calls_arbitrage_free(strike, forward, t, rate, atm_vol, coef, lo, hi, tol) -> bool:
    """Fitted call prices on the listed strikes must fall and be convex in strike, to within ``tol``
    dollars per dollar of strike (a tenth of a tick: smaller violations are not tradeable)."""
    strikes = np.unique(strike)
    n = strikes.shape[0]
    if n < 3:
        return True
    df = math.exp(-rate * t)
    sd = atm_vol * math.sqrt(t)
    c = np.empty(n)
    for k in range(n):
        c[k], _ = _price_vega(forward, strikes[k], t, df, spline_vol_scalar(math.log(strikes[k] / forward) / sd, coef, lo, hi), True)
    prev_slope = -np.inf
    for k in range(n - 1):
        slope = (c[k + 1] - c[k]) / (strikes[k + 1] - strikes[k])
        if slope > tol or slope < prev_slope - tol:
            return False
        prev_slope = slope
    return True
