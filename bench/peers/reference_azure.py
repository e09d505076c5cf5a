#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The baseline users migrate from: the reference sample's consumer (the Azure port of the AWS
EDW sample), reproduced from its description for bench/run with the official Azure SDK for
Python (Debian's python3-azure). What it does, on purpose:
  - builds a new queue client and a new table client for every message (the sample builds its
    credential and clients inside the loop);
  - receives one message per call;
  - writes the row (data, srcStamp, dateStamp, messageProcessingTime) and deletes the message;
  - sleeps one second per iteration (the sample's tick), so one pod handles at most 1 msg/s;
  - no batching, no parallelism, no poison handling.
The sample authenticates with Microsoft Entra workload identity; Azurite is reached with its
connection string instead, so the per-message token exchange of the original is not counted
here (on Azure it adds a round trip to Entra for every message).

The only addition is an exit for the benchmark: after IDLE_S seconds without a message.
  reference_azure.py QUEUE TABLE [TICK_S=1] [IDLE_S=1]
prints {"processed", "seconds"} (seconds excludes the idle tail)."""
import datetime
import json
import os
import sys
import time

from azure.data.tables import TableClient
from azure.storage.queue import QueueClient


def stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    qname, tname = argv[1], argv[2]
    tick = float(argv[3]) if len(argv) > 3 else 1.0
    idle = float(argv[4]) if len(argv) > 4 else 1.0
    conn = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
    processed = 0
    start = last = time.time()
    while True:
        queue_client = QueueClient.from_connection_string(conn, qname)
        table_client = TableClient.from_connection_string(conn, tname)
        got = False
        for msg in queue_client.receive_messages(max_messages=1):
            got = True
            body = json.loads(msg.content)
            src = datetime.datetime.strptime(body["srcStamp"], "%Y-%m-%d %H:%M:%S.%f")
            now = time.time()
            key = body.get("id") or msg.id
            table_client.upsert_entity({
                "PartitionKey": key, "RowKey": key, "data": body["msg"],
                "srcStamp": body["srcStamp"], "dateStamp": stamp(now),
                "messageProcessingTime":
                    now - src.replace(tzinfo=datetime.timezone.utc).timestamp(),
            })
            queue_client.delete_message(msg)
            processed += 1
            last = time.time()
        queue_client.close()
        table_client.close()
        if not got and time.time() - last >= idle:
            break
        time.sleep(tick)
    print(json.dumps({"processed": processed, "seconds": round(last - start, 3)}))


if __name__ == "__main__":
    main(sys.argv)
