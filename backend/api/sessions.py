"""Websocket sessions open on this worker, by API key: revoking a key ends its sessions.

A socket is authenticated once, at ``connection_init``; without this a socket
opened before ``revokeApiKey`` would go on receiving events and running
operations. ``backend.control`` calls ``end`` on every worker when a key is
revoked (a control event through Redis), and the socket is closed with 4403.
"""

from __future__ import annotations

import logging
import weakref
from collections import defaultdict

from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger("daybook.sessions")

REVOKED_CODE = 4403
_open: defaultdict[int, weakref.WeakSet[WebSocket]] = defaultdict(weakref.WeakSet)


def opened(key_id: int | None, websocket: object) -> None:
    """Remember an authenticated socket (gone from here once the socket object is)."""
    if key_id is not None and isinstance(websocket, WebSocket):
        _open[key_id].add(websocket)


async def end(key_id: int | None) -> int:
    """Close every socket of the key on this worker (every socket, for None); how many."""
    keys = list(_open) if key_id is None else [key_id]
    closed = 0
    for key in keys:
        for websocket in list(_open.pop(key, ())):
            if websocket.application_state == WebSocketState.DISCONNECTED:
                continue
            try:
                await websocket.close(code=REVOKED_CODE, reason="API key revoked")
                closed += 1
            except RuntimeError:  # closed meanwhile by the client or the server
                pass
    return closed
