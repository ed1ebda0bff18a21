"""`o2o seed`: create the demo network (registered on the `o2o` command by the CLI module)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from core.errors import DomainError
from core.settings import get_settings

console = Console()


class _RichProgress:
    """Adapts `o2o.seed.SeedProgress` to a rich progress display: one bar per step."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._total = 1

    def step(self, description: str, total: int | None = None) -> None:
        if self._task is not None:
            # A step without a known size spins until the next one starts; then it is done.
            self._progress.update(self._task, total=self._total, completed=self._total)
        self._task = self._progress.add_task(description, total=total)
        self._total = total or 1

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)


def _parse_center(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:
        raise typer.BadParameter("expected LAT,LON, e.g. 52.52,13.405", param_hint="--center") from None
    return lat, lon


def command(
    seed: Annotated[int, typer.Option(min=0, help="Random seed: the same seed always builds the same network.")] = 1,
    center: Annotated[
        str | None,
        typer.Option(metavar="LAT,LON", help="City centre to build around (default 52.52,13.405, Berlin)."),
    ] = None,
    osm: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="Place the stores over the area of an OpenStreetMap extract (.osm, .osm.gz, .osm.bz2).",
        ),
    ] = None,
    skus: Annotated[int, typer.Option(min=1, help="How many SKUs the catalogue gets.")] = 300,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA time zone of the opening hours (default Europe/Berlin for the default city, else UTC)."
        ),
    ] = None,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="First delete the existing network, catalogue, stock, everything referring to them, staff and demo"
            " accounts.",
        ),
    ] = False,
) -> None:
    """Create a realistic demo network: warehouse, distribution centres, stores with zones, catalogue, stock,
    demo accounts."""
    from core.db import session_scope
    from o2o import seed as seeding
    from o2o import stack
    from o2o.migrate import upgrade

    if center is not None and osm is not None:
        raise typer.BadParameter("give --center or --osm, not both", param_hint="--center / --osm")
    settings = get_settings()
    if settings.uses_private_stack:
        stack.up(settings.stack, databases=(settings.database_name,))
    upgrade()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as bar, session_scope() as session:
            report = seeding.seed(
                session,
                seed=seed,
                center=_parse_center(center),
                osm=osm,
                skus=skus,
                timezone=timezone,
                reset=reset,
                progress=_RichProgress(bar),
            )
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc

    table = Table("what", "count", title=f"Seeded network (seed {report.seed})")
    for kind, count in sorted(report.locations.items()):
        table.add_row(kind.replace("_", " "), str(count))
    table.add_row("service zones", str(report.zones))
    table.add_row("categories", str(report.categories))
    table.add_row("SKUs", str(report.skus))
    table.add_row("stock levels", str(report.stock_levels))
    for role, count in sorted(report.users.items()):
        table.add_row(f"{role} accounts", str(count))
    console.print(table)
    south, west, north, east = report.bbox
    console.print(
        f"City centre {report.center[0]:.5f},{report.center[1]:.5f};"
        f" area {south:.4f},{west:.4f} → {north:.4f},{east:.4f} (S,W → N,E)"
    )
    console.print("Sign in (POST /auth/token) as:")
    for role, email in report.logins:
        console.print(f"  {role:<10} {email}")
    console.print(f"Demo password for every account: [bold]{report.demo_password}[/bold]")
