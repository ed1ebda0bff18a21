"""The four web pages (web/): static files under /app, and a start page at / that links to them.

Plain files, no build step: what is in web/ is what the browser gets. Pages call the API on the
same origin, so no CORS set-up is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from core.http.deps import Public
from dispatch import city_map
from routing.street_network import StreetNetwork

WEB_DIR: Final = Path(__file__).resolve().parent.parent / "web"
DEMO_CITY_SEED: Final = 1  # o2o/demo.py seeds city 1 and its live simulation rides city 1's streets

router = APIRouter(include_in_schema=False)


@router.get("/", dependencies=[Public])
def start_page() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html")


@router.get("/web/{path:path}", dependencies=[Public])
def old_page_path(path: str, request: Request) -> RedirectResponse:
    """Links made with the /web/ prefix (e.g. tracking share links) open the page under /app/;
    the query is kept, and browsers keep the #fragment (where a share token lives) themselves."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/app/{path}{query}", status_code=307)


def _demo_city_streets() -> StreetNetwork:
    # Imported on first use: the simulation package is heavy and most requests never need it.
    from o2o.simulate_run import street_graph

    return street_graph(None, seed=DEMO_CITY_SEED).network


def mount_web(app: FastAPI) -> None:
    # The pages' maps draw the streets the demo's couriers ride on (see dispatch.city_map).
    city_map.use_seeded_city_streets(_demo_city_streets)
    app.include_router(router)
    # html=True: /app/customer/ serves customer/index.html (and /app/customer redirects there).
    app.mount("/app", StaticFiles(directory=WEB_DIR, html=True), name="web")
