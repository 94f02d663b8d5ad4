"""Alerts graded by the market: the trade each alert implies, marked on the chain's later snapshots.

``trade`` names the legs (what the rules put in an alert's evidence), ``markout`` values them at a
later quote or at the settlement, ``tracker`` follows open alerts through the chain's snapshots in the
scorer's ordered state, ``grading`` aggregates markouts by type and horizon.
"""

from spyglass.outcome.grading import Grade, grade
from spyglass.outcome.markout import HORIZONS, Markout
from spyglass.outcome.trade import Leg, legs_of
from spyglass.outcome.tracker import Tracked, advance, settle, track

__all__ = ["HORIZONS", "Grade", "Leg", "Markout", "Tracked", "advance", "grade", "legs_of", "settle", "track"]
