"""ASGI middleware of the Vantagepoint simulator."""

from __future__ import annotations

import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BufferedBody:
    """Read the whole request body before the fault middleware can hang the request.

    A client whose read timeout fires during an injected hang has disconnected by the time the handler
    runs; without the body read up front the handler would fail and the write silently not happen. A real
    server that has the request does the write and only the answer is lost, which is the case a client
    must handle (``AmbiguousWriteError``), so the simulator makes that the deterministic outcome.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away before sending everything: nothing to replay
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        async def send_if_connected(message: Message) -> None:
            # The client gave up waiting (an injected hang): the work is done, the answer is lost.
            with contextlib.suppress(OSError):
                await send(message)

        await self.app(scope, replay, send_if_connected)
