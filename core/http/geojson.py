"""GeoJSON responses for the maps: compact JSON, gzipped when large and the client accepts it."""

from __future__ import annotations

import gzip
import json
from typing import Any, Final

from fastapi import Response

GEOJSON: Final = "application/geo+json"
_GZIP_FROM_BYTES: Final = 4_096


def geojson_response(body: dict[str, Any], accept_encoding: str | None, *, vary: str) -> Response:
    """`vary` names the request header that decides what the caller may see (their credentials),
    so a shared cache never hands one reader's map to another."""
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Cache-Control": "private, max-age=30", "Vary": f"Accept-Encoding, {vary}"}
    # The street layer is large and very compressible (~5x); the API has no gzip middleware.
    if len(data) >= _GZIP_FROM_BYTES and "gzip" in (accept_encoding or "").lower():
        data = gzip.compress(data, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(content=data, media_type=GEOJSON, headers=headers)
