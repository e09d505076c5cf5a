#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The Python peer for bench/run: edw's producer and consumer work written with the official
Azure SDK for Python (Debian's python3-azure: azure-storage-queue, azure-data-tables) the way a
careful user would: one client pair for the whole run with a connection pool sized for the
threads that share it, batches of 32 on receive, the rows of a batch upserted in parallel and
then its messages deleted in parallel, several such loops at once.

  azure_py_peer.py consume QUEUE TABLE [LOOPS=4] [IDLE_S=1]
      prints {"processed", "seconds"} (seconds excludes the idle tail)
  azure_py_peer.py produce QUEUE N [THREADS=16]
      sends N sample-compatible messages, prints {"sent", "seconds"}

Connection string from AZURE_STORAGE_CONNECTION_STRING. Message text is sent as is (no base64),
like the reference producer."""
import datetime
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.data.tables import TableClient, UpdateMode
from azure.storage.queue import QueueClient

BATCH = 32


def transport(pool):
    """A requests session whose pool keeps a keep-alive connection per thread (the default
    pool of 10 would open and drop connections under 32 threads)."""
    s = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return RequestsTransport(session=s, session_owner=False)


def stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f")


def parse_stamp(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def consume(conn, qname, tname, loops, idle):
    pool = BATCH * loops
    q = QueueClient.from_connection_string(conn, qname, transport=transport(pool))
    t = TableClient.from_connection_string(conn, tname, transport=transport(pool))
    ex = ThreadPoolExecutor(max_workers=pool)
    lock = threading.Lock()
    state = {"processed": 0, "last": time.time()}
    start = time.time()

    def upsert(m):
        body = json.loads(m.content)
        now = time.time()
        key = body.get("id") or m.id
        t.upsert_entity({
            "PartitionKey": key, "RowKey": key, "data": body["msg"],
            "srcStamp": body["srcStamp"], "dateStamp": stamp(now),
            "messageProcessingTime": now - parse_stamp(body["srcStamp"]),
            "dequeueCount": m.dequeue_count,
        }, mode=UpdateMode.REPLACE)

    def loop():
        while True:
            page = q.receive_messages(messages_per_page=BATCH, max_messages=BATCH,
                                      visibility_timeout=30).by_page()
            msgs = list(next(page, []))
            if not msgs:
                with lock:
                    if time.time() - state["last"] >= idle:
                        return
                time.sleep(0.05)
                continue
            for f in [ex.submit(upsert, m) for m in msgs]:
                f.result()
            for f in [ex.submit(q.delete_message, m) for m in msgs]:
                f.result()
            with lock:
                state["processed"] += len(msgs)
                state["last"] = time.time()

    threads = [threading.Thread(target=loop) for _ in range(loops)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ex.shutdown()
    print(json.dumps({"processed": state["processed"],
                      "seconds": round(state["last"] - start, 3)}))


def produce(conn, qname, n, threads):
    q = QueueClient.from_connection_string(conn, qname, transport=transport(threads))
    run = "py%d" % os.getpid()
    start = time.time()

    def send(i):
        q.send_message(json.dumps({"msg": "Scale Test Message : COUNT %d" % i,
                                   "srcStamp": stamp(time.time()), "id": "%s-%d" % (run, i)}))

    with ThreadPoolExecutor(max_workers=threads) as ex:
        for f in [ex.submit(send, i) for i in range(1, n + 1)]:
            f.result()
    print(json.dumps({"sent": n, "seconds": round(time.time() - start, 3)}))


def main(argv):
    conn = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
    if len(argv) >= 4 and argv[1] == "consume":
        consume(conn, argv[2], argv[3], int(argv[4]) if len(argv) > 4 else 4,
                float(argv[5]) if len(argv) > 5 else 1.0)
    elif len(argv) >= 4 and argv[1] == "produce":
        produce(conn, argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 16)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
