"""A real HTTP receiver of outbound events on 127.0.0.1, port 0.

It records every POST it is sent and answers with whatever status its
``answer`` function returns for it (200 by default); the function may
also sleep to play a slow receiver.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@dataclass
class Post:
    """One request as the receiver saw it, and what it answered (0 = not yet)."""

    headers: dict[str, str]
    body: bytes
    status: int = 0

    @property
    def fields(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True)

    @property
    def form(self) -> dict[str, str]:
        return dict(self.fields)

    @property
    def event_id(self) -> str:
        return self.form["event_id"]


class Receiver:
    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.answer: Callable[[Post], int] = lambda post: 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                post = Post(dict(self.headers.items()), self.rfile.read(length))
                with receiver._lock:
                    receiver.posts.append(post)
                post.status = receiver.answer(post)
                self.send_response(post.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self) -> list[Post]:
        """The posts answered with 200, in the order they arrived."""
        with self._lock:
            return [p for p in self.posts if p.status == 200]

    def wait_for(
        self, done: Callable[[list[Post]], bool], timeout: float = 15
    ) -> list[Post]:
        """Wait until ``done(accepted posts)``; return them."""
        deadline = time.monotonic() + timeout
        while True:
            accepted = self.accepted()
            if done(accepted):
                return accepted
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"receiver got {len(accepted)} accepted posts: "
                    f"{[p.form.get('event') for p in accepted]}"
                )
            time.sleep(0.02)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A receiver serving in a background thread until the block ends."""
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        thread.join(5)
