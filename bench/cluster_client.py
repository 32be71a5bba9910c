"""What a Redis Cluster client costs against a single server's, the same code on both (issue 14).

    .venv/bin/python bench/cluster_client.py

On one private redis-server and on a private 3-master cluster (dispatch/store/embedded_cluster.py), both on
loopback: connect() (the cluster's detection and slot map), one HGET, a pipeline of 100 HGET, one ingest
batch of 200 entries through the Lua step, a replay window of 20,000 entries; and how long a cluster takes
to form. Medians.
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median_ms
from dispatch.keys import Keys
from dispatch.store import connection
from dispatch.store.connection import connect
from dispatch.store.embedded import EmbeddedRedis
from dispatch.store.embedded_cluster import EmbeddedCluster
from dispatch.store import history
from dispatch.store.scripts import IngestScript
from dispatch.domain.batch import RawEntry, plan_batch


def measure(url, label):
    connection._known.clear()
    made = []
    def make():
        connection._known.clear()
        made.append(connect(url))
    connect_ms = median_ms(make, 20)
    for c in made:
        c.close()
    client = connect(url)
    keys = Keys("bench")
    client.hset(keys.drones, "DR-1", b"x")
    hget = median_ms(lambda: client.hget(keys.drones, "DR-1"), 3000)
    def pipe100():
        p = client.pipeline(transaction=False)
        for _ in range(100):
            p.hget(keys.drones, "DR-1")
        p.execute()
    pipe = median_ms(pipe100, 300)
    script = IngestScript(client, keys, live_maxlen=10_000)
    now = int(time.time() * 1000)
    counter = [0]
    def batch():
        counter[0] += 1
        entries = [RawEntry("telemetry", f"{now + counter[0]}-{i}", {b"drone_id": f"DR-{i % 50}".encode(), b"ts": str(now + counter[0] * 10 + i).encode(),
                   b"lat": b"48.11", b"lon": b"-1.68", b"alt_m": b"80", b"heading_deg": b"90", b"speed_mps": b"6", b"battery_pct": b"80"}) for i in range(200)]
        script(plan_batch(entries))
    ingest = median_ms(batch, 100)
    p = client.pipeline(transaction=False)
    for i in range(20000):
        p.xadd(keys.in_telemetry, {"drone_id": "DR-1", "ts": str(now + i), "lat": "48.11", "lon": "-1.68", "alt_m": "80",
                                   "heading_deg": "90", "speed_mps": "6", "battery_pct": "80"})
    p.execute()
    window = median_ms(lambda: history.load_window(client, keys, now - 60_000, now + 3_600_000), 5)
    print(f"{label}: connect() {connect_ms:.2f} ms; HGET {hget:.3f} ms; pipeline of 100 HGET {pipe:.2f} ms; "
          f"ingest script, 200 telemetry entries {ingest:.2f} ms; replay window of 20,000 telemetry entries {window:.0f} ms")
    client.close()


def main() -> None:
    t = time.perf_counter()
    with EmbeddedCluster(tempfile.mkdtemp(), 3, 1):
        print(f"EmbeddedCluster 3 masters + 3 replicas: started and in sync in {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    with EmbeddedCluster(tempfile.mkdtemp(), 3, 0) as c:
        print(f"EmbeddedCluster 3 masters: started in {time.perf_counter() - t:.2f} s")
        with EmbeddedRedis(tempfile.mkdtemp(), persistent=False) as single:
            measure(single.url, "single server")
            measure(c.url, "3-master cluster")


if __name__ == "__main__":
    main()
