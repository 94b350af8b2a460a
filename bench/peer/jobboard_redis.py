#!/usr/bin/python3
"""TaskFlow's own job board, for issue 13's benchmark: jobs per second through a RedisJobBoard
drained by 1, 4 and 16 blocking conductors (threads of this process), beside our boards.

The job is the invoice flow of examples/edge-board/flows.ts (total the lines, sign the total with
SHA-256, file it): a three-task linear flow, posted with its log book and the job's store, as
TaskFlow's jobboard examples post theirs. Each case gets a private redis-server (a Unix socket in
a temporary folder, no persistence) and a new log book store: SQLite in a temporary file (durable,
as IndexedDB and Durable Objects are) and, for reference, TaskFlow's in-memory one.

Needs: apt-get install -y python3-taskflow redis-server python3-redis
Run:   /usr/bin/python3 bench/peer/jobboard_redis.py [jobs] [conductors,...] [jobs on SQLite]
(SQLite, fsyncing each of a job's saves, drains about one job a second here: give it fewer.)
Prints one JSON object per case: {"board": "taskflow-redis", "store": ..., "conductors": ..., ...}.
"""
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from taskflow import engines, task
from taskflow.conductors import backends as conductor_backends
from taskflow.jobs.backends import impl_redis
from taskflow.patterns import linear_flow
from taskflow.persistence import backends as persistence_backends
from taskflow.persistence import models


class Total(task.Task):
    def execute(self, lines):
        return sum(line["quantity"] * line["cents"] for line in lines)


class Sign(task.Task):
    def execute(self, customer, total):
        return hashlib.sha256(f"{customer}:{total}".encode()).hexdigest()


class File(task.Task):
    def execute(self, customer, total, signature):
        return f"{customer}/{total}/{signature[:8]}"


def invoice_flow():
    """The flow factory the conductors rebuild each job's flow from (by its import path)."""
    return linear_flow.Flow("invoice").add(
        Total("total", provides="total"),
        Sign("sign", provides="signature"),
        File("file", provides="receipt"),
    )


@contextlib.contextmanager
def redis_server(folder):
    sock = os.path.join(folder, "redis.sock")
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):  # until it accepts connections (at most 5 s)
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        else:
            raise RuntimeError("redis-server did not start")
        yield sock
    finally:
        server.terminate()
        server.wait()


def measure(jobs, conductors, store_kind, folder):
    with redis_server(folder) as sock:
        if store_kind == "sqlite":
            connection = "sqlite:///" + os.path.join(folder, f"books-{conductors}.db")
        else:
            connection = "memory://"
        persistence = persistence_backends.fetch({"connection": connection})
        with contextlib.closing(persistence.get_connection()) as conn:
            conn.upgrade()
        board = impl_redis.RedisJobBoard("bench", {"unix_socket_path": sock}, persistence=persistence)
        board.connect()
        try:
            for i in range(jobs):
                book = models.LogBook(f"c{i}")
                flow_detail = models.FlowDetail(f"invoice-c{i}", uuid=f"flow-{i}")
                book.add(flow_detail)
                with contextlib.closing(persistence.get_connection()) as conn:
                    conn.save_logbook(book)
                engines.save_factory_details(flow_detail, invoice_flow, (), {}, backend=persistence)
                store = {"customer": f"c{i}", "lines": [{"item": "bolts", "quantity": i + 1, "cents": 250}]}
                board.post(f"invoice-c{i}", book=book, details={"store": store})
            consumed = [0] * conductors
            runners = []
            for c in range(conductors):
                conductor = conductor_backends.fetch(
                    "blocking", f"conductor-{c}", board, persistence=persistence, engine="serial", wait_timeout=0.001)
                counter = conductor.notifier

                def on_consumed(_state, details, c=c):
                    consumed[c] += 1
                counter.register("job_consumed", on_consumed)
                runners.append(conductor)
            started = time.perf_counter()
            threads = [threading.Thread(target=r.run) for r in runners]
            for t in threads:
                t.start()
            while board.job_count > 0:
                time.sleep(0.001)
            elapsed = time.perf_counter() - started
            for r in runners:
                r.stop()
            for t in threads:
                t.join()
            for r in runners:
                r.close()
            return {
                "board": "taskflow-redis", "store": store_kind, "conductors": conductors, "jobs": jobs,
                "ms": round(elapsed * 1000, 1), "jobs_per_s": round(jobs / elapsed, 1), "consumed_per_conductor": consumed,
            }
        finally:
            board.close()
            persistence.close()


def main():
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    counts = [int(c) for c in (sys.argv[2] if len(sys.argv) > 2 else "1,4,16").split(",")]
    sqlite_jobs = int(sys.argv[3]) if len(sys.argv) > 3 else jobs
    if shutil.which("redis-server") is None:
        print(json.dumps({"board": "taskflow-redis", "skipped": "redis-server is not installed (apt-get install -y redis-server python3-redis)"}))
        return
    folder = tempfile.mkdtemp(prefix="tf-jobboard-")
    try:
        measure(min(jobs, 20), 1, "memory", folder)  # warm-up: imports, first connections
        for store_kind, n in (("sqlite", sqlite_jobs), ("memory", jobs)):
            for conductors in counts:
                print(json.dumps(measure(n, conductors, store_kind, folder)), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
