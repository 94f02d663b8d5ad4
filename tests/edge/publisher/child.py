"""A collector stand-in for the crash test: submits snapshots as fast as it can while the publisher sends.

``python -m tests.edge.publisher.child SPOOL CONNECTION_STRING QUEUE N`` prints ``accepted <seq>`` once
``submit`` has returned for that seq, then idles (still sending) until killed.
"""

from __future__ import annotations

import sys
import time

from edge.collector.publish_queue import QueueTarget
from edge.collector.publisher import Publisher
from edge.collector.spool import Spool
from tests.edge.publisher.conftest import make_snapshot


def main() -> None:
    spool_path, conn, queue, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pub = Publisher(Spool(spool_path), QueueTarget.from_connection_string(conn, queue), max_in_flight=2)
    pub.start()
    for seq in range(n):
        pub.submit(make_snapshot(seq))
        print(f"accepted {seq}", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
