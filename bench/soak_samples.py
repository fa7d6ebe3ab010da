"""The soak's watch: every few seconds, the resident memory of every web and worker process
(from /proc: Linux), the database connections the servers hold (pg_stat_activity, by the
application name their database URL gives them) and Redis's clients; and whether each of
those stayed flat.

Flat: after the warm-up, the samples are cut in thirds; the last third's highest must not
exceed the first third's highest by more than 10 % or a small absolute slack (8 MB of
memory, 2 connections), whichever is larger. A leak of a few MB a minute fails a 10-minute
soak; a pool filling up to its size during the first third does not.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

MB = 1024 * 1024
SLACK = {"rss": 8 * MB, "connections": 2}


def rss(pid: int) -> int:
    """A process's resident memory, in bytes (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def children(pid: int) -> list[int]:
    """A process's children (gunicorn's workers)."""
    try:
        return [int(child) for child in
                Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]  # fmt: skip
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process and its reaped children have used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """The machine's (busy, total) CPU time since boot, in clock ticks (all cores)."""
    numbers = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = numbers[3] + numbers[4]  # idle and iowait
    return sum(numbers) - idle, sum(numbers)


@dataclass
class Series:
    """One measured quantity over time: (seconds since start, value) pairs."""

    name: str
    kind: str  # "rss" or "connections"
    points: list[tuple[float, float]] = field(default_factory=list)

    def thirds(self, warm_up: float) -> tuple[float, float] | None:
        """The highest value of the first and of the last third after the warm-up."""
        values = [value for at, value in self.points if at >= warm_up]
        if len(values) < 3:
            return None
        third = len(values) // 3
        return max(values[:third]), max(values[-third:])

    def flat(self, warm_up: float) -> bool:
        """Whether the last third stayed within the allowance of the first (see the module)."""
        cut = self.thirds(warm_up)
        if cut is None:
            return False
        first, last = cut
        return last <= first + max(first * 0.10, SLACK[self.kind])

    def describe(self, warm_up: float) -> str:
        """The first and last thirds' highest, in words."""
        cut = self.thirds(warm_up)
        if cut is None:
            return f"{self.name}: too few samples after the warm-up"
        first, last = cut
        unit, scale = ("MB", MB) if self.kind == "rss" else ("", 1)
        verdict = "flat" if self.flat(warm_up) else "GREW"
        return (f"{self.name}: first third max {first / scale:.1f}{unit}, last third max "
                f"{last / scale:.1f}{unit} ({verdict})")  # fmt: skip


class Watch:
    """Samples the processes, PostgreSQL and Redis every ``every`` seconds in a thread."""

    def __init__(self, processes: dict[str, int], database: str, application: str,
                 redis_url: str, every: float) -> None:  # fmt: skip
        self.processes, self.database, self.application = processes, database, application
        self.redis = redis.Redis.from_url(redis_url)
        self.redis_db = self.redis.connection_pool.connection_kwargs.get("db", 0)
        self.every = every
        self.series: dict[str, Series] = {}
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="watch")
        self.missed: list[str] = []  # samples a server did not answer
        self.cpu_at_start: dict[str, float] = {}
        self.cpu_at_end: dict[str, float] = {}

    def start(self) -> None:
        """Take a sample now and then every ``every`` seconds."""
        self.started = time.monotonic()
        self.cpu_at_start = self._cpu()
        self.thread.start()

    def finish(self) -> None:
        """Take a last sample and stop (once)."""
        if self.stop.is_set() or not self.thread.is_alive():
            self.stop.set()
            return
        self.stop.set()
        self.thread.join()
        self.cpu_at_end = self._cpu()

    def cpu_report(self) -> str:
        """How busy the machine was, and each process's share of the cores, in words."""
        seconds = self.cpu_at_end["wall"] - self.cpu_at_start["wall"]
        busy = self.cpu_at_end["busy"] - self.cpu_at_start["busy"]
        total = self.cpu_at_end["total"] - self.cpu_at_start["total"]
        shares = ", ".join(
            f"{name} {(self.cpu_at_end[name] - self.cpu_at_start[name]) / seconds:.0%}"
            for name in [*self.processes, "load (this process)"]
        )
        return (f"machine busy {busy / total:.0%} of {os.cpu_count()} cores over {seconds:.0f} s; "
                f"of one core: {shares}")  # fmt: skip

    def _cpu(self) -> dict[str, float]:
        busy, total = machine_busy()
        used = {name: cpu_seconds(pid) + sum(cpu_seconds(child) for child in children(pid))
                for name, pid in self.processes.items()}  # fmt: skip
        used["load (this process)"] = cpu_seconds(os.getpid())
        return {**used, "busy": busy, "total": total, "wall": time.monotonic()}

    def _run(self) -> None:
        while True:
            self._sample()
            if self.stop.wait(self.every):
                self._sample()
                return

    def _sample(self) -> None:
        at = time.monotonic() - self.started
        for name, pid in self.processes.items():
            self._add(f"rss {name}", "rss", at, rss(pid))
            for number, child in enumerate(sorted(children(pid))):
                if name.startswith("web"):
                    self._add(f"rss {name} worker {number + 1}", "rss", at, rss(child))
        try:  # a connection each time: a restarted server costs a sample, not the watch
            with psycopg.connect(self.database, autocommit=True, connect_timeout=2) as connection:
                row = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    (self.application,),
                ).fetchone()
            self._add("postgresql connections", "connections", at, row[0] if row else 0)
        except psycopg.Error:
            self.missed.append(f"{at:.0f} s: PostgreSQL")
        try:
            ours = [client for client in self.redis.client_list()
                    if int(client.get("db", -1)) == self.redis_db]  # fmt: skip
            self._add(f"redis clients (db {self.redis_db})", "connections", at, len(ours))
        except redis.RedisError:
            self.missed.append(f"{at:.0f} s: Redis")

    def _add(self, name: str, kind: str, at: float, value: float) -> None:
        self.series.setdefault(name, Series(name, kind)).points.append((at, value))
