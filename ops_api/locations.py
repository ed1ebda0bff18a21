"""`/ops`: the store network for dispatchers and admins — locations, service zones, overview map."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response, status
from fastapi.responses import JSONResponse

from core.auth.models import Role
from core.http.deps import DbSession, allow
from stores import service
from stores.models import LocationKind
from stores.schemas import MAX_PAGE_SIZE, LocationCreate, LocationOut, LocationPage, LocationUpdate

router = APIRouter(prefix="/ops", tags=["ops: network"])
operators = [Depends(allow(Role.dispatcher, Role.admin))]


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


_ZONE_EXAMPLE = {
    "type": "Polygon",
    "coordinates": [[[13.38, 52.51], [13.43, 52.51], [13.43, 52.53], [13.38, 52.53], [13.38, 52.51]]],
}


@router.get("/locations", dependencies=operators)
def list_locations(
    session: DbSession,
    kind: LocationKind | None = None,
    active: bool | None = None,
    parent_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the code or name.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> LocationPage:
    """Locations ordered by code, a page at a time."""
    page = service.list_locations(
        session, kind=kind, active=active, parent_id=parent_id, search=q, limit=limit, offset=offset
    )
    return LocationPage(
        items=[LocationOut.from_location(loc) for loc in page.locations], total=page.total, limit=limit, offset=offset
    )


@router.post("/locations", status_code=status.HTTP_201_CREATED, dependencies=operators)
def create_location(body: LocationCreate, session: DbSession, response: Response) -> LocationOut:
    """Add a location of any tier. Its service zone is uploaded separately (`PUT …/zone`)."""
    location = service.create_location(session, data=body)
    response.headers["Location"] = f"/ops/locations/{location.id}"
    return LocationOut.from_location(location)


@router.get("/locations/{location_id}", dependencies=operators)
def get_location(location_id: uuid.UUID, session: DbSession) -> LocationOut:
    return LocationOut.from_location(service.get_location(session, location_id))


@router.patch("/locations/{location_id}", dependencies=operators)
def update_location(location_id: uuid.UUID, body: LocationUpdate, session: DbSession) -> LocationOut:
    """Change only the fields sent; `"parent_id": null` detaches the location from its parent."""
    return LocationOut.from_location(service.update_location(session, location_id=location_id, data=body))


@router.get("/locations/{location_id}/zone", response_class=GeoJSONResponse, dependencies=operators)
def get_zone(location_id: uuid.UUID, session: DbSession) -> dict[str, Any]:
    """The service zone as a GeoJSON Feature (MultiPolygon, positions `[lon, lat]`)."""
    return service.zone_feature(session, location_id=location_id)


@router.put("/locations/{location_id}/zone", response_class=GeoJSONResponse, dependencies=operators)
def put_zone(
    location_id: uuid.UUID,
    session: DbSession,
    zone: Annotated[
        dict[str, Any],
        Body(
            description="GeoJSON Polygon or MultiPolygon, or a Feature holding one; positions `[lon, lat]`.",
            examples=[_ZONE_EXAMPLE],
        ),
    ],
) -> dict[str, Any]:
    """Replace the service zone. Invalid shapes are rejected with the reason, never repaired."""
    return service.set_zone(session, location_id=location_id, geojson=zone)


@router.delete("/locations/{location_id}/zone", status_code=status.HTTP_204_NO_CONTENT, dependencies=operators)
def delete_zone(location_id: uuid.UUID, session: DbSession) -> None:
    service.clear_zone(session, location_id=location_id)


@router.get("/network.geojson", response_class=GeoJSONResponse, dependencies=operators)
def network(session: DbSession) -> dict[str, Any]:
    """Every location as a Point and every service zone as a (Multi)Polygon, for the ops map."""
    return service.network_geojson(session)
