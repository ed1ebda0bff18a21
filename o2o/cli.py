"""The `o2o` command: local stack, migrations, API server, demo, benchmarks."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings
from o2o.seed_cli import command as seed_command
from o2o.simulate_cli import command as simulate_command

app = typer.Typer(help="O2O Dispatch: instant delivery for local retail.", no_args_is_help=True)
stack_app = typer.Typer(help="The private PostgreSQL/PostGIS + Redis under .o2o/.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (results as a table and JSON).", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
console = Console()


def _private_stack_needed() -> bool:
    return get_settings().uses_private_stack


@stack_app.command("up")
def stack_up(
    print_started: Annotated[bool, typer.Option(help="Print only the names of services started now.")] = False,
) -> None:
    """Start the private PostgreSQL and Redis (idempotent)."""
    from o2o import stack

    if not _private_stack_needed():
        if not print_started:
            console.print("O2O_DATABASE_URL and O2O_REDIS_URL are set: nothing to start.")
        return
    settings = get_settings()
    try:
        started = stack.up(settings.stack, databases=(settings.database_name,))
    except stack.StackError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if print_started:
        print(" ".join(started))
    else:
        console.print(f"Started: {', '.join(started)}" if started else "Already running.")


@stack_app.command("down")
def stack_down() -> None:
    """Stop the private PostgreSQL and Redis."""
    from o2o import stack

    stack.down(get_settings().stack)
    console.print("Stopped.")


@stack_app.command("status")
def stack_status() -> None:
    """Say what is running (exit 1 when something is down)."""
    from o2o import stack

    settings = get_settings()
    current = stack.status(settings.stack)
    table = Table("service", "state", "where")
    table.add_row("postgres", "up" if current.postgres else "down", str(settings.stack.socket_dir))
    table.add_row("redis", "up" if current.redis else "down", str(settings.stack.redis_socket))
    console.print(table)
    if not current.up:
        raise typer.Exit(1)


@stack_app.command("urls")
def stack_urls() -> None:
    """Print the database and Redis URLs the project uses (for psql, redis-cli, your tools)."""
    settings = get_settings()
    print(f"O2O_DATABASE_URL={settings.effective_database_url()}")
    print(f"O2O_REDIS_URL={settings.effective_redis_url()}")
    print(f"API=http://{settings.host}:{settings.port}")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION."""
    from o2o.migrate import upgrade

    upgrade(revision=revision)
    console.print(f"Database at {revision}.")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models and the migrated database disagree."""
    from o2o.migrate import drift

    differences = drift()
    for diff in differences:
        console.print(diff)
    if differences:
        raise typer.Exit(1)
    console.print("Models and migrations agree.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: O2O_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: O2O_PORT")] = None,
    workers: int = 1,
) -> None:
    """Run the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "o2o.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        ws_max_size=64 * 1024,
        # Measured: per-message deflate costs CPU per frame and memory per socket for small JSON frames.
        ws_per_message_deflate=False,
    )


app.command("seed")(seed_command)
app.command("simulate")(simulate_command)


@app.command()
def demo() -> None:
    """Set up everything, start the API, worker and beat, print the URLs; Ctrl-C stops it all."""
    from o2o.demo import run_demo

    raise typer.Exit(run_demo(console))


# Benchmarks live in bench/; each module exposes `command`. Registered lazily so that a missing
# optional peer (PyVRP, VROOM) only matters when that benchmark runs.
_BENCHMARKS = {
    "routing": "bench.routing",
    "dynamic": "bench.dynamic",
    "street-matrix": "bench.street_matrix",
    "inventory": "bench.inventory",
    "checkout": "bench.checkout",
    "dispatch": "bench.dispatch",
    "tracking": "bench.tracking",
}
for _name, _module in _BENCHMARKS.items():
    try:
        bench_app.command(_name)(importlib.import_module(_module).command)
    except ModuleNotFoundError as _exc:
        # Only an absent benchmark module is skipped; a missing dependency inside one is an error.
        if _exc.name is None or not _module.startswith(_exc.name):
            raise
