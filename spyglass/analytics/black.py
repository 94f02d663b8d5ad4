"""Black-76 kernels on the forward (numba, ``cache=True``; honours ``NUMBA_CACHE_DIR``).

Conventions used everywhere in Spyglass:
- prices are per share, discounted to today with ``DF = exp(-rate * t)``;
- ``t`` is in years of 365 days, to the second (see ``spyglass.clock``);
- ``forward`` is the parity-implied forward for the expiry;
- ``vol`` is annualised (0.20 = 20 vol points);
- array arguments are same-length 1-D float64 arrays, ``is_call`` a bool array.

Public API
----------
- :func:`norm_cdf`, :func:`black_price_scalar`, :func:`black_price` - discounted Black-76 price.
- :func:`implied_vol_scalar` (njit, callable from other kernels), :func:`implied_vol` (arrays).
- :func:`greeks` -> :class:`Greeks`; njit kernels :func:`greeks_kernel`,
  :func:`black_greeks_scalar` and :func:`black_gamma_scalar`.

Implied volatility
------------------
The price is inverted on the out-of-the-money side (an in-the-money quote is turned into its
OTM twin by put-call parity) in normalised coordinates ``x = -|ln(F/K)|``, ``s = vol*sqrt(t)``,
``beta = otm_price / (DF * sqrt(F K))``, where the normalised OTM price is::

    b(x, s) = exp(x/2) Phi(x/s + s/2) - exp(-x/2) Phi(x/s - s/2),   x <= 0,  0 < b < exp(x/2).

The initial guess inverts the Bachelier limit ``b ~ s psi(x/s)`` with rational fits and corrects
it to Black at second order in ``s`` (relative error ~1e-6 for ``s <= 0.2``, i.e. all of 0DTE);
then Householder's third-order method runs on the log price ``ln b(s) - ln beta``, safeguarded
by a bracket, until a step is below 2e-5 relative (quartic convergence: the error left is then
far below 1e-14 relative). For 0DTE quotes that is the guess plus one price evaluation (two
erfc and one exp); large ``s`` take two or three evaluations. :func:`implied_vol` runs the
stages as separate passes over the arrays, which lets the CPU overlap neighbouring options
(~40% of the speed of one bare price evaluation per option on a 242-option chain, see
``bench/bench_iv.py``).

Where no volatility exists the result is NaN (never 0 or a floor): any non-finite input,
``t <= 0``, ``forward <= 0``, ``strike <= 0``, ``price <= 0``, a price at or below the discounted
intrinsic value, a price at or above the upper bound (``DF*F`` for calls, ``DF*K`` for puts), or
an OTM price whose normalised value ``beta`` underflows (below 2.2e-308).

Accuracy: limited only by the information in the double-precision price. Where 4 ulps of the price
move the vol by less than 1e-10 ("recoverable") the error against 40-digit references is below
1e-10 (in practice ~1e-11 at worst, from t = 1 minute to 6.5 hours, deep OTM to deep ITM); elsewhere
it stays within that information limit. Deep ITM quotes lose digits in the parity subtraction, and
very deep OTM or very high vol quotes have a vega that is small against the price ulp. The price
evaluation itself rounds to ~(1 + |x/s|)/s ulps of ``b`` (its two terms cancel), which costs a few
1e-16/sqrt(t in years) of absolute vol (~2e-13 at one minute).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_DBL_MIN = 2.2250738585072014e-308
_INF = math.inf
_NAN = math.nan

# Solver settings.
_MAX_ITER = 32
# Householder(3) converges quartically: after a relative step d the relative error left is
# ~ C d^4 with C = O(1) in log-price coordinates; stopping at d <= 2e-5 leaves < 1e-17.
_STEP_TOL = 2.0e-5


@njit(cache=True, fastmath=False)
def norm_cdf(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True)
def normalised_black_otm_and_vega(x: float, s: float, ex2: float, emx2: float):
    """``(b, db/ds)``: normalised OTM Black price ``b(x, s)`` (``x <= 0``, ``s > 0``) and its
    derivative in ``s``, ``exp(-x^2/(2 s^2) - s^2/8) / sqrt(2 pi)``.

    ``ex2 = exp(x/2)`` and ``emx2 = exp(-x/2)`` are passed in so that callers compute them once.
    ``b = otm_price / (DF * sqrt(F K))``. The two erfc arguments ``x/(s sqrt2) +- s/(2 sqrt2)``
    are formed with their rounding errors captured exactly (TwoSum) and fed back to first order
    (``d b / d arg = +-sqrt(2) db/ds``): without it the rounding of the arguments, amplified by
    the cancellation between the two terms, costs ~|x|/s^2 ulps of ``s`` for small ``s``.
    """
    h = x / s
    hh = h * _INV_SQRT2
    sh = s * (0.5 * _INV_SQRT2)
    u1 = hh + sh
    t1 = u1 - hh
    e1 = (hh - (u1 - t1)) + (sh - t1)
    u2 = hh - sh
    t2 = u2 - hh
    e2 = (hh - (u2 - t2)) - (sh + t2)
    bp = math.exp(-0.5 * (h * h + 0.25 * s * s)) * _INV_SQRT_2PI
    b = 0.5 * (ex2 * math.erfc(-u1) - emx2 * math.erfc(-u2)) + _SQRT2 * bp * (e1 - e2)
    return b, bp


@njit(cache=True)
def normalised_black_otm(x: float, s: float, ex2: float, emx2: float) -> float:
    """Normalised OTM Black price ``b(x, s) = otm_price / (DF sqrt(F K))`` for ``x <= 0``, ``s > 0``;
    ``ex2 = exp(x/2)``, ``emx2 = exp(-x/2)``. See :func:`normalised_black_otm_and_vega`."""
    return normalised_black_otm_and_vega(x, s, ex2, emx2)[0]


@njit(cache=True)
def black_price_scalar(forward: float, strike: float, t: float, rate: float, vol: float, is_call: bool) -> float:
    """Discounted Black-76 price per share (``t`` in years, ``vol`` annualised).

    ``t <= 0`` or ``vol <= 0`` give the discounted intrinsic value; NaN inputs give NaN. The
    out-of-the-money part is computed in normalised form (no cancellation between the two
    terms of the usual formula for in-the-money options), the intrinsic value added on top.
    """
    df = math.exp(-rate * t)
    if t <= 0.0 or vol <= 0.0:
        intrinsic = forward - strike if is_call else strike - forward
        return df * max(intrinsic, 0.0)
    s = vol * math.sqrt(t)
    x = -abs(math.log(forward / strike))
    # same normalisation as the implied-vol solver, so that price -> vol -> price round-trips
    sqrt_fk = math.sqrt(forward * strike)
    inv_sqrt_fk = 1.0 / sqrt_fk
    b = normalised_black_otm(x, s, min(forward, strike) * inv_sqrt_fk, max(forward, strike) * inv_sqrt_fk)
    intrinsic = forward - strike if is_call else strike - forward
    return df * (sqrt_fk * b + max(intrinsic, 0.0))


@njit(cache=True)
def black_price(forward, strike, t, rate, vol, is_call) -> np.ndarray:
    """Vectorised discounted Black-76 price; arrays broadcast elementwise (same length)."""
    n = strike.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = black_price_scalar(forward[i], strike[i], t[i], rate[i], vol[i], is_call[i])
    return out


# ---------------------------------------------------------------------------------------------
# Implied volatility
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _inv_norm_cdf_rough(p: float) -> float:
    """Inverse normal CDF, absolute error < 5e-4 (Abramowitz & Stegun 26.2.23); for guesses."""
    q = p if p <= 0.5 else 1.0 - p
    t = math.sqrt(-2.0 * math.log(q))
    z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
    return -z if p <= 0.5 else z


# Inverse of the normalised OTM Bachelier price s*psi(-H), psi(h) = phi(h) + h*Phi(h), H = |x|/s,
# as a function of lam = ln(1 + |x|/beta), y = sqrt(lam). Rational fits made for this module
# (weighted least squares against 40-digit values); max relative error in H: 6.2e-7 for H <= 2.5
# (lam <= _LAM_12), where H = lam * R1(y); 1.2e-6 for 2.5 <= H <= 40, where
# H = sqrt(2 lam) * R2(1/y) (evaluated below as a rational in y).
_LAM_12 = 7.129633711035678  # lam at H = 2.5


@njit(cache=True)
def _guess_s(beta: float, x: float, emx2: float) -> float:
    """Initial guess for ``s`` with ``b(x, s) = beta`` (``x <= 0``).

    Inverts the Bachelier approximation ``b ~ s psi(x/s)`` (exact as s -> 0 at fixed x/s), then
    corrects to Black at second order: at fixed H = |x|/s, ``b / (s psi) = 1 - s^2 (...) + O(s^4)``,
    which moves s by the relative amount ``s^2 q(H)`` with ``q = m'/8 - m'''/24``, ``m = Phi/phi``
    at ``-H`` (``q(0) = 1/24``, ``q ~ 1/(8 H^2)``), fitted to 1% as ``q = k r(k) / 24`` with
    ``k = 1/(1 + H^2/3)``. Relative error ~1e-6 for ``s <= 0.2``. For large s the one-term lower
    bound ``exp(x/2) Phi(x/s + s/2) = beta`` is used where it is larger.
    """
    a = -x
    if a > 0.0:
        r = a / beta
        if r > 1e-5:
            lam = math.log(1.0 + r) if r < 1e300 else math.log(r)
        else:
            lam = r * (1.0 - r * (0.5 - r * (1.0 / 3.0)))  # log1p(r)
        y = math.sqrt(lam)
        if lam <= _LAM_12:
            num = 0.3989422804014327 + y * (
                0.12440454650052456 + y * (-0.10453087795927535 + y * (0.04538774347993132 + y * -0.0039375841310378))
            )
            den = 1.0 + y * (
                0.31183732316885904 + y * (-0.26200164784988544 + y * (0.11355275833914882 + y * -0.00537849921342241))
            )
            pp = lam * num
        else:
            num = -22.021480933474212 + y * (
                33.032517085294046 + y * (-20.363501208026204 + y * (2.3093208934475746 + y * 1.0003876050075347))
            )
            den = -24.68807338475118 + y * (21.631299650794965 + y * (-14.72443045005264 + y * (2.361576652373889 + y)))
            pp = _SQRT2 * y * num
        # H = pp/den; a single division gives both s_n = a/H and k = 1/(1 + H^2/3).
        d3 = 3.0 * den * den
        e = d3 + pp * pp
        inv = 1.0 / (pp * e)
        s_n = a * den * e * inv
        k = d3 * pp * inv
    else:
        s_n = beta / _INV_SQRT_2PI
        k = 1.0
    q = k * (1.00012246 + k * (-0.66874739 + k * (1.35047529 + k * (-1.5898086 + k * 0.89938756)))) * (1.0 / 24.0)
    if s_n <= 0.5:
        return s_n * (1.0 + s_n * s_n * q)
    s = s_n * (1.0 + 0.25 * q)  # correction frozen at s = 0.5
    p1 = beta * emx2
    if p1 < 1.0:
        z = _inv_norm_cdf_rough(p1)
        rt = math.sqrt(z * z + 2.0 * a)
        s_u = z + rt if z >= 0.0 else 2.0 * a / (rt - z)
        if s_u > s:
            s = s_u
    return s


@njit(cache=True)
def _householder_from(b: float, bp: float, x: float, s: float, inv_beta: float):
    """``(ds, g)``: Householder(3) step on ``g(s) = ln b(x, s) - ln beta`` given ``b = b(x, s)`` and
    ``bp = db/ds``; NaN if ``b`` underflows.

    With ``nu = g/g'``, ``g' = b'/b``, ``b''/b' = c2 = x^2/s^3 - s/4`` and
    ``b'''/b' = c3 = c2^2 - 3 x^2/s^4 - 1/4``, the step is
    ``-nu (1 - nu g''/(2 g')) / (1 - nu g''/g' + nu^2 g'''/(6 g'))`` where
    ``nu g''/g' = c2 nu - g`` and ``nu^2 g'''/g' = c3 nu^2 - 3 c2 nu g + 2 g^2``.
    """
    if not (b >= _DBL_MIN):
        return _NAN, _NAN
    inv_s = 1.0 / s
    g = math.log(b * inv_beta)
    nu = g * (b / bp)
    hhs = x * x * (inv_s * inv_s * inv_s)  # x^2/s^3
    c2 = hhs - 0.25 * s
    c3 = c2 * c2 - 3.0 * hhs * inv_s - 0.25
    a2 = c2 * nu - g
    a3 = (c3 * nu - 3.0 * c2 * g) * nu + 2.0 * g * g
    ds = -nu * (1.0 - 0.5 * a2) / (1.0 - a2 + a3 * (1.0 / 6.0))
    return ds, g


@njit(cache=True)
def _householder_step(x: float, s: float, inv_beta: float, ex2: float, emx2: float):
    """``(ds, g)`` of :func:`_householder_from` at ``s``, evaluating ``b`` and ``b'``."""
    b, bp = normalised_black_otm_and_vega(x, s, ex2, emx2)
    return _householder_from(b, bp, x, s, inv_beta)


@njit(cache=True)
def _tail_newton_step(x: float, s: float, beta: float):
    """``(ds, g)``: Newton step on the tail asymptote ``b ~ b' s/h^2 (1 - 3/h^2)``, used only when
    ``b`` underflows at a trial point (``beta`` itself tiny) to move back into range."""
    h = x / s
    ln_bp = -0.5 * (h * h + 0.25 * s * s) - _LN_SQRT_2PI
    c = 1.0 - 3.0 / (h * h)
    lnb = ln_bp + math.log(s / (h * h)) + math.log(c if c > 0.05 else 0.05)
    g = lnb - math.log(beta)
    ell = h * h / s + 3.0 / s  # d/ds of the leading terms -x^2/(2 s^2) + 3 ln s
    return -g / ell, g


@njit(cache=True)
def _solve_normalised_counted(beta: float, x: float):
    """``(s, evaluations)`` with ``b(x, s) = beta``, ``x <= 0``; ``(NaN, 0)`` if ``beta`` is
    outside ``[2.2e-308, exp(x/2))``."""
    ex2 = math.exp(0.5 * x)
    if not (beta >= _DBL_MIN and beta < ex2):
        return _NAN, 0
    emx2 = 1.0 / ex2
    return _iterate(beta, x, _guess_s(beta, x, emx2), ex2, emx2)


@njit(cache=True)
def _iterate(beta: float, x: float, s: float, ex2: float, emx2: float):
    """Safeguarded Householder(3) iteration from ``s``; ``(s, evaluations)``."""
    inv_beta = 1.0 / beta
    s_lo = 0.0
    s_hi = _INF
    for it in range(_MAX_ITER):
        ds, g = _householder_step(x, s, inv_beta, ex2, emx2)
        if g != g:
            ds, g = _tail_newton_step(x, s, beta)
        if g < 0.0:
            s_lo = s
        elif g > 0.0:
            s_hi = s
        else:
            return s, it + 1
        s_new = s + ds
        if abs(ds) <= _STEP_TOL * s:
            return s_new, it + 1
        if not (s_new > s_lo and s_new < s_hi):
            # The step left the bracket (or is not finite): bracket-preserving move instead.
            if s_hi == _INF:
                s_new = 2.0 * s
            elif s_lo == 0.0:
                s_new = 0.5 * s
            else:
                s_new = math.sqrt(s_lo * s_hi)
            if abs(s_new - s) <= 1e-15 * s:
                return s_new, it + 1
        s = s_new
    return s, _MAX_ITER


@njit(cache=True)
def _normalise(price: float, forward: float, strike: float, t: float, rate: float, is_call: bool):
    """``(beta, x, ex2, emx2)`` of a discounted price: ``x = -|ln F/K|``, ``ex2 = exp(x/2)``,
    ``emx2 = exp(-x/2)`` and ``beta`` the normalised OTM price, NaN when no vol exists:
    non-finite input, ``t``, ``forward``, ``strike`` or ``price`` not positive,
    ``price <= DF*intrinsic``, ``price >= DF*F`` (call) or ``DF*K`` (put), ``beta < 2.2e-308``."""
    if not (t > 0.0 and forward > 0.0 and strike > 0.0 and price > 0.0):
        return _NAN, 0.0, 1.0, 1.0  # also catches NaN inputs
    if not (math.isfinite(price) and math.isfinite(forward) and math.isfinite(strike)):
        return _NAN, 0.0, 1.0, 1.0
    if not (math.isfinite(t) and math.isfinite(rate)):
        return _NAN, 0.0, 1.0, 1.0
    df = math.exp(-rate * t)
    if is_call:
        bound = forward
        intrinsic = forward - strike
    else:
        bound = strike
        intrinsic = strike - forward
    if price >= df * bound:
        return _NAN, 0.0, 1.0, 1.0
    p = price / df  # undiscounted
    if intrinsic > 0.0:
        if price <= df * intrinsic:
            return _NAN, 0.0, 1.0, 1.0
        p = p - intrinsic  # OTM twin by parity
    x = -abs(math.log(forward / strike))
    inv_sqrt_fk = 1.0 / math.sqrt(forward * strike)
    ex2 = min(forward, strike) * inv_sqrt_fk  # exp(x/2)
    emx2 = max(forward, strike) * inv_sqrt_fk  # exp(-x/2)
    beta = p * inv_sqrt_fk
    if not (beta >= _DBL_MIN and beta < ex2):
        beta = _NAN
    return beta, x, ex2, emx2


@njit(cache=True)
def implied_vol_scalar(price: float, forward: float, strike: float, t: float, rate: float, is_call: bool) -> float:
    """Black-76 implied volatility (annualised) of one discounted price; NaN if none exists.

    ``price`` per share, discounted by ``exp(-rate*t)``; ``t`` in years (365-day); ``forward`` the
    expiry forward. Callable from other njit kernels. See the module doc for the NaN cases.
    """
    beta, x, ex2, emx2 = _normalise(price, forward, strike, t, rate, is_call)
    if beta != beta:
        return _NAN
    s = _iterate(beta, x, _guess_s(beta, x, emx2), ex2, emx2)[0]
    return s / math.sqrt(t)


@njit(cache=True)
def implied_vol(price, forward, strike, t, rate, is_call) -> np.ndarray:
    """Vectorised Black-76 implied vol (annualised); NaN where no vol exists. See module doc.

    All arguments are same-length 1-D arrays (``is_call`` bool); prices discounted, per share.
    Results are identical to :func:`implied_vol_scalar`; the work is split into passes
    (normalisation, guess, first evaluation, iteration) so that the CPU overlaps the long
    dependency chains of neighbouring options.
    """
    n = price.shape[0]
    out = np.empty(n)
    xs = np.empty(n)
    betas = np.empty(n)
    guesses = np.empty(n)
    ex2s = np.empty(n)
    emx2s = np.empty(n)
    for i in range(n):
        beta, x, ex2, emx2 = _normalise(price[i], forward[i], strike[i], t[i], rate[i], is_call[i])
        xs[i] = x
        betas[i] = beta
        ex2s[i] = ex2
        emx2s[i] = emx2
    for i in range(n):
        beta = betas[i]
        guesses[i] = _guess_s(beta, xs[i], emx2s[i]) if beta == beta else _NAN
    bs = np.empty(n)
    bps = np.empty(n)
    for i in range(n):
        s = guesses[i]
        if s == s:
            bs[i], bps[i] = normalised_black_otm_and_vega(xs[i], s, ex2s[i], emx2s[i])
    for i in range(n):
        s = guesses[i]
        if s == s:
            beta = betas[i]
            ds, g = _householder_from(bs[i], bps[i], xs[i], s, 1.0 / beta)
            if abs(ds) <= _STEP_TOL * s:  # the usual case: converged after one evaluation
                s = s + ds
            else:
                s = _iterate(beta, xs[i], s, ex2s[i], emx2s[i])[0]
            out[i] = s / math.sqrt(t[i])
        else:
            out[i] = _NAN
    return out


# ---------------------------------------------------------------------------------------------
# Greeks
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def black_gamma_scalar(spot: float, forward: float, strike: float, t: float, rate: float, vol: float) -> float:
    """Gamma d2V/dS2 per share per $ of spot (calls and puts alike), with F/S held fixed.

    ``DF * (F/S)^2 * phi(d1) / (F vol sqrt(t))``; NaN if ``t <= 0``, ``vol <= 0`` or ``spot <= 0``.
    """
    if not (t > 0.0 and vol > 0.0 and spot > 0.0):
        return _NAN
    s = vol * math.sqrt(t)
    d1 = math.log(forward / strike) / s + 0.5 * s
    return math.exp(-rate * t - 0.5 * d1 * d1) * _INV_SQRT_2PI * forward / (spot * spot * s)


@njit(cache=True)
def black_greeks_scalar(spot: float, forward: float, strike: float, t: float, rate: float, vol: float, is_call: bool):
    """``(delta, gamma, vega, theta)`` of one option; units as in :class:`Greeks`. NaN if
    ``t <= 0``, ``vol <= 0``, ``spot <= 0`` or any input is NaN."""
    if not (t > 0.0 and vol > 0.0 and spot > 0.0 and forward > 0.0 and strike > 0.0):
        return _NAN, _NAN, _NAN, _NAN
    sqrt_t = math.sqrt(t)
    s = vol * sqrt_t
    lnfk = math.log(forward / strike)
    d1 = lnfk / s + 0.5 * s
    df = math.exp(-rate * t)
    carry = forward / spot
    dff = df * forward
    dff_pdf = dff * math.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI  # DF F phi(d1)
    # undiscounted price, OTM part in normalised form (accurate deep OTM and ITM)
    x = -abs(lnfk)
    ex2 = math.exp(0.5 * x)
    b = normalised_black_otm(x, s, ex2, 1.0 / ex2)
    if is_call:
        n1 = 0.5 * math.erfc(-d1 * _INV_SQRT2)  # Phi(d1) = dB/dF
        undisc = math.sqrt(forward * strike) * b + max(forward - strike, 0.0)
    else:
        n1 = -0.5 * math.erfc(d1 * _INV_SQRT2)  # -Phi(-d1) = dB/dF
        undisc = math.sqrt(forward * strike) * b + max(strike - forward, 0.0)
    delta = df * carry * n1
    gamma = dff_pdf / (spot * spot * s)
    vega = dff_pdf * sqrt_t
    # theta = -dV/dT at fixed spot with F = S exp(mu T), mu = ln(F/S)/T the carry rate (r - q):
    # dV/dT = -r V + DF [dB/dF * mu F + F phi(d1) vol / (2 sqrt T)]
    mu = math.log(carry) / t
    theta = rate * df * undisc - dff * mu * n1 - dff_pdf * vol / (2.0 * sqrt_t)
    return delta, gamma, vega, theta


@njit(cache=True)
def greeks_kernel(spot, forward, strike, t, rate, vol, is_call):
    """Vectorised greeks: tuple ``(delta, gamma, vega, theta)`` of arrays (see :class:`Greeks`)."""
    n = strike.shape[0]
    delta = np.empty(n)
    gamma = np.empty(n)
    vega = np.empty(n)
    theta = np.empty(n)
    for i in range(n):
        d, g, v, th = black_greeks_scalar(spot[i], forward[i], strike[i], t[i], rate[i], vol[i], is_call[i])
        delta[i] = d
        gamma[i] = g
        vega[i] = v
        theta[i] = th
    return delta, gamma, vega, theta


@njit(cache=True)
def forward_delta_scalar(forward: float, strike: float, t: float, vol: float, is_call: bool) -> float:
    """dB/dF of the undiscounted price: ``Phi(d1)`` for a call, ``Phi(d1) - 1`` for a put; NaN if ``t <= 0``
    or ``vol <= 0``. The moneyness measure traders quote (the "25-delta put"), free of rate and carry."""
    if not (t > 0.0 and vol > 0.0):
        return _NAN
    s = vol * math.sqrt(t)
    n1 = norm_cdf(math.log(forward / strike) / s + 0.5 * s)
    return n1 if is_call else n1 - 1.0


@njit(cache=True)
def forward_delta(forward, strike, t, vol, is_call) -> np.ndarray:
    """Vectorised ``forward_delta_scalar`` over same-length arrays."""
    n = strike.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = forward_delta_scalar(forward[i], strike[i], t[i], vol[i], is_call[i])
    return out


@dataclass(frozen=True)
class Greeks:
    """Black-76 greeks per share (arrays; NaN where ``t <= 0``, ``vol <= 0`` or inputs are NaN).

    Attributes:
        delta: dV/dS, $ per $ of spot, with the carry F/S held fixed (``DF (F/S) Phi(d1)`` for a
            call, ``-DF (F/S) Phi(-d1)`` for a put).
        gamma: d2V/dS2, per $ of spot per $ of spot (same for calls and puts).
        vega: dV/dvol, $ per 1.00 of annualised vol (i.e. per 100 vol points; divide by 100
            for per vol point).
        theta: dV/d(calendar time), $ per year (= -dV/dT), spot fixed, forward carried as
            ``F = S exp((r - q) T)`` with ``r - q = ln(F/S)/T``; negative for a long option
            that only decays.
        theta_day: ``theta / 365``, $ per calendar day.
    """

    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    theta_day: np.ndarray


def greeks(spot, forward, strike, t, rate, vol, is_call) -> Greeks:
    """Black-76 greeks of same-length arrays (scalars are broadcast); see :class:`Greeks` for units.

    ``spot`` and ``forward`` per share, ``t`` in years (365-day), ``rate`` continuously
    compounded, ``vol`` annualised, ``is_call`` bool.
    """
    args = np.broadcast_arrays(
        np.asarray(spot, dtype=np.float64),
        np.asarray(forward, dtype=np.float64),
        np.asarray(strike, dtype=np.float64),
        np.asarray(t, dtype=np.float64),
        np.asarray(rate, dtype=np.float64),
        np.asarray(vol, dtype=np.float64),
        np.asarray(is_call, dtype=np.bool_),
    )
    flat = [np.ascontiguousarray(a).reshape(-1) for a in args]
    delta, gamma, vega, theta = greeks_kernel(*flat)
    shape = args[0].shape
    return Greeks(
        delta=delta.reshape(shape),
        gamma=gamma.reshape(shape),
        vega=vega.reshape(shape),
        theta=theta.reshape(shape),
        theta_day=(theta / 365.0).reshape(shape),
    )
