"""Page latency of the web application under 50 concurrent signed-in users, on PostgreSQL.

Data: 300 simulated enterprises (every city of Shandong) with twelve months of rollups. The
simulator writes two days of 15-minute readings (31 Dec 2025 back one day) that go through the
real import path (readings, rollups, sources) and verification; simulating twelve months of raw
readings for 300 enterprises would take hours, so the other 363 days of daily rollups are
built directly in SQL from each meter's simulated days (times a seasonal factor, ±10 %), and
the monthly rollups are recomputed from the daily ones. Pages read rollups only (the meter
page's raw resolution reads a two-day window).

Load: ``kilnwatch serve`` (one worker process by default, as a user runs it;
``BENCH_WEB_WORKERS``) on a free loopback port; this script is the second process: 50 users
(10 province, 30 city, 10 enterprise; arriving over the first 10 s) sign in through the
sign-in form, land on their home page, then browse their pages (overview or city,
enterprise, unit, meter, the read API raw and daily, findings queue and one finding, data
quality) with a think time drawn uniformly from
2-8 s (``BENCH_WEB_THINK_S``; about 10 requests/s in all) for ``DURATION_S`` seconds after a
15 s warm-up. Every page view counts, including the first (uncached) view of an enterprise,
unit or meter met during the run. Reported: each page's p50 and p95 [ms] and the same-run
baseline, a trivial page (``/healthz``). Goal: every page p95 < 300 ms.

Ends with ``RESULT {json}``: ``p95_ms`` (page -> ms), ``p95_ms_max``, ``baseline_p95_ms``,
``p50_ms``, ``requests``, ``errors``, ``cold_ms`` (first, uncached view of each page).

``BENCH_WEB_MODE=single``: instead of the load, one user at a time in this process (the app
over ``httpx.ASGITransport``, no server): for a province, a city and an enterprise user, each
page's server time on its first (uncached, but after the background prewarming that
``kilnwatch serve`` does: ``prewarm_ms``) and warm views and its number of SQL statements,
against ``/healthz`` in the same run; ends with ``RESULT {json}`` (``single``: page ->
``cold_ms``, ``warm_ms`` (median of 5), ``queries_cold``, ``queries_warm``).

Commands: ``BENCH_WEB_KEEP=1 python benchmarks/web.py`` builds the database, runs the load and
keeps the database (its name is printed); ``BENCH_WEB_REUSE=<name> python benchmarks/web.py``
runs the load again on it (add ``BENCH_WEB_MODE=single`` for the single-user figures).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import httpx
import psycopg

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # pg_support
from pg_support import throwaway_database  # noqa: E402

PG_ADMIN = os.environ.get("KILNWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ENTERPRISES = 300
USERS = 50
DURATION_S = float(os.environ.get("BENCH_WEB_DURATION_S", "120"))
WARMUP_S = 15.0
THINK_S = tuple(float(x) for x in os.environ.get("BENCH_WEB_THINK_S", "2,8").split(","))
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "1"))
PASSWORD = "kilnwatch-bench"
SIM_START = date(2025, 12, 30)
SIM_DAYS = 2


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


SYNTH_DAYS = """
WITH per_meter AS (
    SELECT meter_id, avg(sum) AS sum, max(count) AS count, avg(min) AS min, avg(max) AS max,
           avg(first) AS first, avg(last) AS last
    FROM rollups WHERE grain = 'day' GROUP BY meter_id
), days AS (
    SELECT d FROM generate_series(
        (timestamp '2025-01-01 00:00' AT TIME ZONE 'Asia/Shanghai'),
        (timestamp '2025-12-29 00:00' AT TIME ZONE 'Asia/Shanghai'),
        interval '1 day') AS d
)
INSERT INTO rollups (meter_id, grain, period_start, sum, count, min, max, first, last,
                     first_ts, last_ts, resets, rollovers)
SELECT p.meter_id, 'day', days.d,
       p.sum * (1 + 0.1 * sin(2 * pi() * extract(doy FROM days.d) / 365.0)),
       p.count, p.min, p.max, p.first, p.last, days.d + interval '15 minutes',
       days.d + interval '1 day', 0, 0
FROM per_meter p CROSS JOIN days
ON CONFLICT DO NOTHING
"""
REBUILD_MONTHS = """
DELETE FROM rollups WHERE grain = 'month';
INSERT INTO rollups (meter_id, grain, period_start, sum, count, min, max, first, last,
                     first_ts, last_ts, resets, rollovers)
SELECT meter_id, 'month',
       date_trunc('month', period_start AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai',
       sum(sum), sum(count), min(min), max(max), min(first), max(last), min(first_ts),
       max(last_ts), sum(resets), sum(rollovers)
FROM rollups WHERE grain = 'day'
GROUP BY meter_id, date_trunc('month', period_start AT TIME ZONE 'Asia/Shanghai');
"""


def build(url: str, var: Path) -> dict[str, object]:
    """The province: simulate, import, verify, synthesise 12 months of rollups, add users."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select

    from kilnwatch.config import Settings
    from kilnwatch.domain.periods import Period
    from kilnwatch.identity import Role
    from kilnwatch.ingest.folder import import_folder
    from kilnwatch.ingest.validate import ValidationPolicy
    from kilnwatch.sim.config import SimParams
    from kilnwatch.sim.run import simulate_to_dir
    from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
    from kilnwatch.store.migrate import upgrade
    from kilnwatch.store.models import Enterprise, Rollup
    from kilnwatch.store.repos.users import add_user
    from kilnwatch.verify.run import verify_period
    from kilnwatch.verify.settings import verify_settings

    settings = Settings(database_url=url, var_dir=var, environment="test")
    engine = make_engine(settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    params = SimParams(seed=11, enterprises=ENTERPRISES, start=SIM_START, days=SIM_DAYS,
                       output_format="parquet", every_city=True)  # fmt: skip
    simulate_to_dir(params, var / "province")
    log(f"simulated in {time.perf_counter() - started:.0f} s")
    with unit_of_work(factory) as session:
        import_folder(session, var / "province", policy=ValidationPolicy(local_tz="Asia/Shanghai"))
    log(f"imported in {time.perf_counter() - started:.0f} s")
    last_day = SIM_START + timedelta(days=SIM_DAYS - 1)
    for month in Period.of_days(SIM_START, last_day, ZoneInfo("Asia/Shanghai")).split("month"):
        with unit_of_work(factory) as session:
            verify_period(session, month, None, verify_settings("default", None))
    log(f"verified in {time.perf_counter() - started:.0f} s")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute(SYNTH_DAYS)
        conn.execute(REBUILD_MONTHS)
        conn.execute("ANALYZE")
    log(f"rollups built in {time.perf_counter() - started:.0f} s")
    users: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with unit_of_work(factory) as session:
        cities = sorted({c[:4] + "00" for c in session.scalars(select(Enterprise.region_code))})
        firsts = session.execute(select(Enterprise.id, Enterprise.uscc).order_by(Enterprise.id)
                                 .limit(10)).all()  # fmt: skip
        for i in range(10):
            add_user(session, f"p{i}", PASSWORD, Role.PROVINCE, region_code="370000")
            users["province"].append((f"p{i}", "370000"))
        for i in range(30):
            city = cities[i % len(cities)]
            add_user(session, f"c{i}", PASSWORD, Role.CITY, region_code=city)
            users["city"].append((f"c{i}", city))
        for i, (eid, uscc) in enumerate(firsts):
            add_user(session, f"e{i}", PASSWORD, Role.ENTERPRISE, enterprise_uscc=uscc)
            users["enterprise"].append((f"e{i}", str(eid)))
        counts = {
            "enterprises": session.scalar(select(func.count(Enterprise.id))),
            "rollups": session.scalar(select(func.count()).select_from(Rollup)),
            "months": session.scalar(
                select(func.count(func.distinct(Rollup.period_start))).where(
                    Rollup.grain == "month"
                )
            ),  # fmt: skip
        }
    engine.dispose()
    return {"users": users, "counts": counts}


async def sign_in(client: httpx.AsyncClient, user: str) -> float:
    """Sign in through the form and load the page it lands on; returns that page's time [ms]."""
    page = await client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    r = await client.post("/signin", data={"username": user, "password": PASSWORD,
                                           "csrf_token": token[1], "next": ""})  # fmt: skip
    assert r.status_code == 303, f"{user}: sign-in answered {r.status_code}"
    t0 = time.perf_counter()
    home = await client.get(r.headers["location"])
    assert home.status_code == 200, f"{user}: home answered {home.status_code}"
    return (time.perf_counter() - t0) * 1000


async def links(client: httpx.AsyncClient, path: str, pattern: str) -> list[str]:
    text = (await client.get(path)).text
    return sorted(set(re.findall(pattern, text)))


async def plan(client: httpx.AsyncClient, role: str, scope: str) -> dict[str, list[str]]:
    """The pages this user browses: its home, enterprise, unit, meter, findings, quality."""
    home = "/" if role == "province" else (f"/regions/{scope}" if role == "city"
                                           else f"/enterprises/{scope}")  # fmt: skip
    pages: dict[str, list[str]] = {"overview" if role == "province" else role: [home]}
    enterprises = await links(client, home if role != "province" else "/regions/370100",
                              r'href="(/enterprises/\d+)"')  # fmt: skip
    if role == "enterprise":
        enterprises = [home]
    if role == "province":
        pages["city"] = [f"/regions/{c}" for c in ("370100", "370200", "370300", "370700")]
    pages.setdefault("enterprise", enterprises[:5] or [home])
    units = await links(client, pages["enterprise"][0], r'href="(/units/\d+)"')
    meters = await links(client, pages["enterprise"][0], r'href="(/meters/\d+)"')
    pages["unit"] = units[:3]
    pages["meter"] = meters[:3]
    ids = [m.rsplit("/", 1)[1] for m in meters[:3]]
    pages["api_readings_day"] = [f"/api/v1/meters/{i}/readings?resolution=day" for i in ids]
    pages["api_readings_raw"] = [f"/api/v1/meters/{i}/readings?resolution=raw" for i in ids]
    if role != "enterprise":
        pages["findings"] = ["/findings", "/findings?sort=tce", "/findings?severity=high"]
        found = await links(client, "/findings", r'href="(/findings/\d+)"')
        pages["finding"] = found[:5]
        pages["quality"] = ["/quality"]
    pages["baseline"] = ["/healthz"]
    return {k: v for k, v in pages.items() if v}


async def user_loop(base: str, name: str, role: str, scope: str, deadline: float,
                    started: float, samples: dict[str, list[float]], errors: list[str],
                    cold: dict[str, float], delay_s: float) -> None:  # fmt: skip
    rng = random.Random(name)
    await asyncio.sleep(delay_s)
    # uvicorn closes idle keep-alive connections after 5 s; expire them first on our side so
    # that a think time of up to 8 s never reuses a connection the server is closing
    limits = httpx.Limits(keepalive_expiry=3.0)
    async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False,
                                 limits=limits) as client:  # fmt: skip
        landing_ms = await sign_in(client, name)
        cold.setdefault("overview" if role == "province" else role, landing_ms)
        pages = await plan(client, role, scope)
        kinds = sorted(pages)
        while time.monotonic() < deadline:
            kind = rng.choice(kinds)
            path = rng.choice(pages[kind])
            t0 = time.perf_counter()
            try:
                r = await client.get(path)
            except httpx.TransportError as exc:
                errors.append(f"{name} {path} {type(exc).__name__}")
                continue
            ms = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                errors.append(f"{name} {path} {r.status_code}")
            if time.monotonic() >= started:
                samples[kind].append(ms)
            else:
                cold.setdefault(kind, ms)
            await asyncio.sleep(rng.uniform(*THINK_S))


async def load(base: str, users: dict[str, list[tuple[str, str]]]) -> dict[str, object]:
    samples: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    cold: dict[str, float] = {}
    now = time.monotonic()
    started, deadline = now + WARMUP_S, now + WARMUP_S + DURATION_S
    load_before = os.getloadavg()[0]
    # users arrive over the first two thirds of the warm-up, not all in the same instant (50
    # scrypt password checks at once would time out on a loaded two-core machine)
    everyone = [(role, name, scope) for role, members in users.items() for name, scope in members]
    step = WARMUP_S * 2 / 3 / len(everyone)
    tasks = [user_loop(base, name, role, scope, deadline, started, samples, errors, cold, i * step)
             for i, (role, name, scope) in enumerate(everyone)]  # fmt: skip
    await asyncio.gather(*tasks)
    load_after = os.getloadavg()[0]

    def q(values: list[float], p: float) -> float:
        return round(statistics.quantiles(values, n=100)[int(p) - 1], 1) if len(values) > 1 \
            else round(values[0], 1)  # fmt: skip

    p95 = {k: q(v, 95) for k, v in samples.items() if k != "baseline"}
    p50 = {k: q(v, 50) for k, v in samples.items()}
    return {
        "p95_ms": p95,
        "p95_ms_max": max(p95.values()),
        "baseline_p95_ms": q(samples["baseline"], 95),
        "p50_ms": p50,
        "requests": {k: len(v) for k, v in samples.items()},
        "errors": len(errors),
        "error_examples": errors[:5],
        "cold_ms": {k: round(v, 1) for k, v in cold.items()},
        "users": sum(len(v) for v in users.values()),
        "think_s": list(THINK_S),
        "workers": WORKERS,
        # the machine's 1-minute load average before and after (2 cores, shared): queueing
        # behind other processes shows in the baseline and in every page's tail
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "requests_per_s": round(sum(len(v) for v in samples.values()) / DURATION_S, 1),
        "duration_s": DURATION_S,
    }


async def single(url: str, var: Path, users: dict[str, list[tuple[str, str]]]) -> dict[str, object]:
    """Each page one at a time, in process: first and warm server time, SQL statements."""
    from sqlalchemy import event

    from kilnwatch.config import Settings
    from kilnwatch.store.engine import make_engine
    from kilnwatch.store.migrate import upgrade
    from kilnwatch.web.app import create_app

    settings = Settings(database_url=url, var_dir=var, environment="dev")
    engine = make_engine(settings)
    upgrade(engine)  # a reused database, as ``kilnwatch serve`` would
    engine.dispose()
    app = create_app(settings)
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    event.listen(app.state.engine, "before_cursor_execute", count)
    from kilnwatch.web.pages.common_figures import warm

    t0 = time.perf_counter()
    with app.state.session_factory() as session:
        warm(session, app.state.figure_cache, "Asia/Shanghai")
    prewarm_ms = round((time.perf_counter() - t0) * 1000, 1)
    log(f"prewarming the newest month took {prewarm_ms} ms")
    out: dict[str, dict[str, float]] = {}
    transport = httpx.ASGITransport(app=app)
    for role in ("province", "city", "enterprise"):
        name, scope = users[role][0]
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await sign_in(client, name)
            pages = await plan(client, role, scope)
            # every first view below is uncached, except what ``kilnwatch serve`` computes in
            # the background when data changes (the newest month's shared figures)
            app.state.figure_cache._entries.clear()
            with app.state.session_factory() as session:
                warm(session, app.state.figure_cache, "Asia/Shanghai")
            for kind, paths in sorted(pages.items()):
                path = paths[0]
                times, queries = [], []
                for _ in range(6):
                    before, t0 = statements[0], time.perf_counter()
                    r = await client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    queries.append(statements[0] - before)
                    assert r.status_code == 200, f"{path}: {r.status_code}"
                out[f"{role}:{kind}"] = {
                    "cold_ms": round(times[0], 1),
                    "warm_ms": round(statistics.median(times[1:]), 1),
                    "queries_cold": queries[0],
                    "queries_warm": max(queries[1:]),
                }
                log(f"{role}:{kind} {path} {out[f'{role}:{kind}']}")
    app.state.engine.dispose()
    baseline = statistics.median(v["warm_ms"] for k, v in out.items() if k.endswith(":baseline"))
    warm_max = max(v["warm_ms"] for k, v in out.items() if not k.endswith(":baseline"))
    return {"single": out, "baseline_warm_ms": baseline, "warm_ms_max": warm_max,
            "prewarm_ms": prewarm_ms,
            "load_average": round(os.getloadavg()[0], 1)}  # fmt: skip


def main() -> int:
    # BENCH_WEB_KEEP=1 keeps the database and prints its name; BENCH_WEB_REUSE=<name> reuses
    # it (skipping the five-minute build) when tuning pages
    reuse = os.environ.get("BENCH_WEB_REUSE")
    keep = bool(reuse or os.environ.get("BENCH_WEB_KEEP"))
    with throwaway_database("kilnwatch_bench_web", PG_ADMIN, reuse=reuse, keep=keep) as url:
        return bench(url, bool(reuse))


def bench(url: str, reused: bool) -> int:
    """Build (or reuse) the data of the database at ``url``, then serve and load it."""
    name = url.rsplit("/", 1)[1]
    var = Path(tempfile.gettempdir()) / name
    var.mkdir(exist_ok=True)
    proc = None
    try:
        if reused:
            built = json.loads((var / "built.json").read_text(encoding="utf-8"))
        else:
            built = build(url, var)
            (var / "built.json").write_text(json.dumps(built), encoding="utf-8")
        log(f"data: {built['counts']} in database {name}")
        if os.environ.get("BENCH_WEB_MODE") == "single":
            found = asyncio.run(single(url, var, built["users"]))  # type: ignore[arg-type]
            print(f"RESULT {json.dumps(found, ensure_ascii=False)}")
            return 0
        port = free_port()
        # plain HTTP on loopback: cookies without Secure (the "dev" setting), as a browser on
        # http://127.0.0.1 would need
        env = {**os.environ, "KILNWATCH_DATABASE_URL": url, "KILNWATCH_VAR_DIR": str(var),
               "KILNWATCH_ENVIRONMENT": "dev"}  # fmt: skip
        out = (var / "serve.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kilnwatch.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        log(f"serving on {base}; {USERS} users for {WARMUP_S:.0f}+{DURATION_S:.0f} s")
        result = asyncio.run(load(base, built["users"]))  # type: ignore[arg-type]
        result["data"] = built["counts"]
        result["goal_p95_ms"] = 300
        print(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"RESULT {json.dumps(result, ensure_ascii=False)}")
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    raise SystemExit(main())
