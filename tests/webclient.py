"""Logging in to the web interface with httpx, as a browser would."""

from __future__ import annotations

import re
from typing import Any

import httpx

from serverkit import LiveServer

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def log_in(
    server: LiveServer, username: str, password: str, **kwargs: Any
) -> tuple[httpx.Client, httpx.Response]:
    """A client holding a web session; returns it with the login answer."""
    client = server.http(**kwargs)
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(form.text),
        },
    )
    return client, answer


def admin(server: LiveServer) -> httpx.Client:
    creds = server.credentials["admin"]
    client, answer = log_in(server, creds["username"], creds["password"])
    assert answer.status_code == 303, answer.text
    return client


def rep(server: LiveServer, index: int = 0) -> httpx.Client:
    creds = server.credentials["reps"][index]
    client, answer = log_in(server, creds["username"], creds["password"])
    assert answer.status_code == 303, answer.text
    return client
