"""What each IBKR error/warning code means for the collector. Pure.

See ../shared/notes/ibkr.md section 4: these arrive on ``errorEvent`` (never as exceptions),
with ``reqId`` -1 for connection-level notices.
"""

from __future__ import annotations

from enum import Enum


class Code(Enum):
    PACING = "pacing"  # 100: more than 50 messages/s
    LINE_CAP = "line_cap"  # 101: max number of tickers reached
    NO_CONTRACT = "no_contract"  # 200: no security definition
    NOT_SUBSCRIBED = "not_subscribed"  # 354: no live subscription for this data
    DELAYED = "delayed"  # 10167: not subscribed, showing delayed data
    COMPETING = "competing"  # 10197: a competing live session takes the data
    LOST = "connectivity_lost"  # 1100: TWS lost IB's servers
    RESTORED_DATA_LOST = "restored_data_lost"  # 1101: back, subscriptions gone
    RESTORED = "restored"  # 1102: back, subscriptions kept
    FARM_BROKEN = "farm_broken"  # 2103 (and 2105/2157: hmds/sec-def farms)
    FARM_OK = "farm_ok"  # 2104 (2106/2158)
    OTHER = "other"


_TABLE = {
    100: Code.PACING, 101: Code.LINE_CAP, 200: Code.NO_CONTRACT, 354: Code.NOT_SUBSCRIBED,
    10167: Code.DELAYED, 10197: Code.COMPETING, 1100: Code.LOST, 1101: Code.RESTORED_DATA_LOST,
    1102: Code.RESTORED, 2103: Code.FARM_BROKEN, 2105: Code.FARM_BROKEN, 2157: Code.FARM_BROKEN,
    2104: Code.FARM_OK, 2106: Code.FARM_OK, 2158: Code.FARM_OK,
}


def classify(code: int) -> Code:
    return _TABLE.get(int(code), Code.OTHER)
