"""WebSocket plumbing shared by the edges' sockets (courier stream, order tracking, ops live).

Every socket authenticates in-band (the first message carries the token, never the query string,
which ends up in logs), limits frames to 64 KiB and ends in one of two ways: the client leaves,
or the server closes with a code and a short reason. `serve` holds that skeleton once, so the
sockets differ only in what they say.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from core.metrics import WS_CONNECTIONS

MAX_FRAME = 64 * 1024
AUTH_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0  # a client that stopped reading must not hold the handler open
POLICY_VIOLATION, MESSAGE_TOO_BIG, UNAVAILABLE, TRY_AGAIN_LATER = 1008, 1009, 1011, 1013


class Close(Exception):
    """Ends a socket with this close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def frame_payload(message: Mapping[str, Any]) -> str | None:
    """The text of a received message, None for a binary frame. Raises WebSocketDisconnect when
    the client left and Close for a frame over MAX_FRAME."""
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text, data = message.get("text"), message.get("bytes")
    if len(text.encode() if text is not None else data or b"") > MAX_FRAME:
        raise Close(MESSAGE_TOO_BIG, "frame over 64 KiB")
    return str(text) if text is not None else None


def frame_text(message: Mapping[str, Any]) -> str:
    """Like `frame_payload`, for protocols that speak only text: a binary frame closes with 1008."""
    text = frame_payload(message)
    if text is None:
        raise Close(POLICY_VIOLATION, "text frames only")
    return text


async def first_message(ws: WebSocket, *, reason: str) -> dict[str, Any]:
    """The first message as a JSON object, within AUTH_TIMEOUT_S (TimeoutError otherwise);
    anything else closes with 1008 and `reason`."""
    with anyio.fail_after(AUTH_TIMEOUT_S):
        raw = frame_payload(await ws.receive())
    try:
        first = json.loads(raw or "")
    except ValueError as exc:
        raise Close(POLICY_VIOLATION, reason) from exc
    if not isinstance(first, dict):
        raise Close(POLICY_VIOLATION, reason)
    return first


async def serve(
    ws: WebSocket, *, label: str, session: Callable[[], Awaitable[Close | None]], no_auth_reason: str
) -> None:
    """Accept, run `session` (which returns how to close, or None when the client left), close.
    A TimeoutError means the first message never came."""
    await ws.accept()
    WS_CONNECTIONS.labels(label).inc()
    closing: Close | None = None
    try:
        closing = await session()
    except Close as close:
        closing = close
    except TimeoutError:
        closing = Close(POLICY_VIOLATION, no_auth_reason)
    except WebSocketDisconnect:
        closing = None
    finally:
        WS_CONNECTIONS.labels(label).dec()
    if closing is not None:
        with anyio.move_on_after(CLOSE_TIMEOUT_S):
            await ws.close(code=closing.code, reason=closing.reason)
