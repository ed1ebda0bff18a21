"""`o2o demo`: the whole system on one machine, started and stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from core.settings import Settings, get_settings
from o2o.seed import DEMO_PASSWORD

READY_TIMEOUT_S = 60
# The live city: a working day at 30× real time (a virtual hour every two minutes), with a
# fleet small enough that the simulation keeps pace on a 2-core laptop next to API and worker
# (a twentieth of the day's orders, 8 couriers).
LIVE_ARGS = (
    *("--live", "--scenario", "city_day", "--scale", "0.05", "--couriers", "8"),
    *("--speed", "30", "--policy", "greedy"),
)
PAGES = ("customer", "courier", "staff", "ops")


@dataclass
class Processes:
    running: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    optional: set[str] = field(default_factory=set)  # may finish without stopping the demo

    def start(self, name: str, args: list[str], log_path: str, *, optional: bool = False) -> None:
        log = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        # Own process group: Ctrl-C is handled once, here, and children are stopped in order.
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((name, proc))
        if optional:
            self.optional.add(name)

    def dead(self) -> list[str]:
        return [name for name, proc in self.running if proc.poll() is not None and name not in self.optional]

    def failed_optional(self) -> list[str]:
        """Optional children that ended with an error (the demo goes on, but the person should know)."""
        return [name for name, proc in self.running if name in self.optional and proc.poll() not in (None, 0)]

    def stop(self) -> None:
        for _name, proc in reversed(self.running):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, proc in reversed(self.running):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_ready(settings: Settings, processes: Processes, progress: Progress) -> bool:
    task = progress.add_task("Waiting for the API to be ready", total=None)
    url = f"http://{settings.host}:{settings.port}/readyz"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if processes.dead():
            return False
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                progress.update(task, description="API ready")
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def _seed_first_time(bar: Progress) -> None:
    """A first demo gets a city to look at; later runs keep whatever the database holds."""
    from core.db import session_scope
    from o2o import seed as seeding

    with session_scope() as session:
        if seeding.network_exists(session):
            bar.add_task("Network already seeded (o2o seed --reset to rebuild it)", total=1, completed=1)
            return
        step = bar.add_task("Seeding a demo city (warehouse, DCs, stores, catalogue, stock)", total=None)
        seeding.seed(session, seed=1, center=None, osm=None)
        bar.update(step, description="Demo city seeded", total=1, completed=1)


def _prepare_streets(bar: Progress) -> None:
    """Build the city's street graph for every vehicle now (cached on disk for later runs), so that
    the live simulation's couriers start riding seconds after it starts."""
    from o2o.simulate_run import street_graph
    from routing.types import PROFILES

    step = bar.add_task("Preparing the city's street graph (first time only)", total=None)
    graph = street_graph(None, seed=1)
    for profile in PROFILES:
        graph.prepare(profile)
    bar.update(step, description="Street graph ready", total=1, completed=1)


def _print_welcome(console: Console, settings: Settings, tag: str, logs: object) -> None:
    from simulations.world import SIM_DOMAIN

    base = f"http://{settings.host}:{settings.port}"
    console.print("\n[bold green]O2O Dispatch is running[/bold green], with a live city simulation at 30× speed. Open:")
    for page in PAGES:
        console.print(f"  {page:<10} {base}/app/{page}")
    console.print(f"  API docs   {base}/docs    metrics {base}/metrics")
    console.print(f"Sign in (password [bold]{DEMO_PASSWORD}[/bold] for all):")
    logins = (
        ("customer", "customer1@o2o.example"),
        ("courier", f"courier0.{tag}@{SIM_DOMAIN}  (a simulated courier: watch their route)"),
        ("staff", "staff.ds-01@o2o.example"),
        ("dispatcher", "dispatcher@o2o.example"),
        ("admin", "admin@o2o.example"),
    )
    for role, email in logins:
        console.print(f"  {role:<10} {email}")
    console.print(f"Logs in {logs} (the simulation's progress: simulation.log). Press Ctrl-C to stop.")


def run_demo(console: Console) -> int:
    from o2o import stack
    from o2o.migrate import upgrade

    # Ctrl-C is how the demo stops. A shell starts background jobs with SIGINT ignored, and
    # Python then never turns it into KeyboardInterrupt: the demo (and its children) would
    # outlive the Ctrl-C meant for them.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = get_settings()
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    processes = Processes()
    python = sys.executable
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
            if settings.uses_private_stack:
                step = bar.add_task("Starting PostgreSQL + PostGIS and Redis", total=None)
                started = stack.up(settings.stack, databases=(settings.database_name,))
                bar.update(step, description="PostgreSQL + PostGIS and Redis running")
            step = bar.add_task("Migrating the database", total=None)
            upgrade()
            bar.update(step, description="Database migrated")
            _seed_first_time(bar)
            _prepare_streets(bar)
            processes.start(
                "api",
                [
                    python,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "o2o.app:create_app",
                    "--host",
                    settings.host,
                    "--port",
                    str(settings.port),
                    "--ws-max-size",
                    str(64 * 1024),
                    "--ws-per-message-deflate",
                    "false",
                ],
                str(logs / "api.log"),
            )
            processes.start(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "core.celery_app",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                    "--hostname",
                    f"demo@{os.uname().nodename}",
                ],
                str(logs / "worker.log"),
            )
            processes.start(
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "core.celery_app",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(settings.home / "celerybeat-schedule"),
                ],
                str(logs / "beat.log"),
            )
            ready = _wait_ready(settings, processes, bar)
        if not ready:
            console.print(f"[red]The demo did not become ready; see the logs in {logs}[/red]")
            return 1
        tag = f"d{int(time.time()) % 10**8}"
        processes.start(
            "simulation",
            [python, "-m", "o2o", "simulate", *LIVE_ARGS, "--tag", tag],
            str(logs / "simulation.log"),
            optional=True,
        )
        _print_welcome(console, settings, tag, logs)
        reported: set[str] = set()
        while not processes.dead():
            for name in set(processes.failed_optional()) - reported:
                console.print(f"[yellow]The {name} stopped with an error; see {logs}/{name}.log[/yellow]")
                reported.add(name)
            time.sleep(0.5)
        console.print(f"[red]{', '.join(processes.dead())} stopped unexpectedly; see {logs}[/red]")
        return 1
    except KeyboardInterrupt:
        console.print("\nStopping…")
        return 0
    finally:
        processes.stop()
        if started and os.environ.get("O2O_KEEP_STACK") != "1":
            stack.down(settings.stack)
