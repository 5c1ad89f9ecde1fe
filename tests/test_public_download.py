"""What a session-generation request answers: launcher, HEAD, chat, CLI."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from publickit import authenticate, log_in, session_count, site_server, stored
from serverkit import LiveServer

__all__ = ["site_server"]

LINUX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
MAC_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605"
WINDOWS_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126"
PATHS = [
    "/api/start_session",
    "/api/start_session.ns",
    "/download_customer_connector.ns",
]


@pytest.fixture
def server(site_server: LiveServer) -> LiveServer:
    return site_server


@pytest.fixture
def rep_query(server: LiveServer) -> str:
    return f"id={log_in(server, 'alice')}&customer.name=Jane"


def launcher_args(script: str) -> list[str]:
    """The words of the launcher's ``supportbox customer`` line."""
    line = next(x for x in script.splitlines() if x.startswith("exec supportbox"))
    return shlex.split(line.replace("exec ", "", 1))


@pytest.mark.parametrize("ua", [LINUX_UA, MAC_UA, "curl/8.5.0", ""])
def test_linux_macos_and_unknown_agents_download_a_shell_launcher(
    server: LiveServer, rep_query: str, ua: str
) -> None:
    with server.http(headers={"User-Agent": ua}) as http:
        response = http.get(f"/api/start_session?{rep_query}")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        'attachment; filename="supportbox-support.sh"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.text.startswith("#!/bin/sh\n")
    args = launcher_args(response.text)
    assert args[:4] == ["supportbox", "customer", "--server", server.url]
    lsid, token = args[5], args[7]
    assert args[4:8:2] == ["--lsid", "--token"]
    assert args[8:] == ["$@"]  # the launcher's own arguments are passed on
    assert stored(server, lsid).customer_name == "Jane"
    assert authenticate(server, lsid, token) == 1


def test_the_shell_launcher_runs_supportbox_customer_with_a_working_token(
    server: LiveServer, rep_query: str, tmp_path: Path
) -> None:
    with server.http(headers={"User-Agent": LINUX_UA}) as http:
        script = http.get(f"/api/start_session?{rep_query}").content
    launcher = tmp_path / "supportbox-support.sh"
    launcher.write_bytes(script)
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    # A stand-in supportbox command that records the arguments it got.
    fake = tmp_path / "bin" / "supportbox"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n')
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{fake.parent}:/usr/bin:/bin",
        "ARGS_FILE": str(tmp_path / "args"),
    }

    extra = ["--allow", "shell,files", "--files-dir", "/tmp/my files"]
    subprocess.run([str(launcher), *extra], env=env, check=True, timeout=10)

    args = (tmp_path / "args").read_text().splitlines()
    assert args[:3] == ["customer", "--server", server.url]
    assert args[3] == "--lsid" and args[5] == "--token"
    assert args[7:] == extra
    assert authenticate(server, args[4], args[6]) == 1


def test_the_shell_launcher_explains_when_supportbox_is_missing(
    server: LiveServer, rep_query: str, tmp_path: Path
) -> None:
    with server.http() as http:
        script = http.get(f"/api/start_session?{rep_query}").content
    launcher = tmp_path / "launcher.sh"
    launcher.write_bytes(script)
    done = subprocess.run(
        ["/bin/sh", str(launcher)],
        env={"PATH": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 1
    assert "needs the supportbox client" in done.stderr


def test_windows_agents_download_a_cmd_launcher(
    server: LiveServer, rep_query: str
) -> None:
    with server.http(headers={"User-Agent": WINDOWS_UA}) as http:
        response = http.get(f"/api/start_session?{rep_query}")
    assert response.headers["content-disposition"] == (
        'attachment; filename="supportbox-support.cmd"'
    )
    text = response.text
    assert text.startswith("@echo off\r\n")
    assert "\n" not in text.replace("\r\n", "")
    match = re.search(
        r'supportbox customer --server "([^"]+)" --lsid (\w+) --token (\w+) %\*\r',
        text,
    )
    assert match is not None
    assert match.group(1) == server.url
    assert authenticate(server, match.group(2), match.group(3)) == 1


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_the_download_headers_and_creates_no_session(
    server: LiveServer, rep_query: str, path: str
) -> None:
    with server.http(headers={"User-Agent": LINUX_UA}) as http:
        before = session_count(server)
        head = http.head(f"{path}?{rep_query}")
        assert session_count(server) == before
        get = http.get(f"{path}?{rep_query}")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-disposition", "content-type", "content-length"):
        assert head.headers[name] == get.headers[name], name


def test_head_answers_the_chat_and_cli_content_types_without_a_session(
    server: LiveServer, rep_query: str
) -> None:
    before = session_count(server)
    with server.http() as http:
        chat = http.head(f"/api/start_session?{rep_query}&c2cjs=1")
        cli = http.head(f"/api/start_session?{rep_query}&client=cli")
        bad = http.head("/api/start_session?id=999")
    assert chat.headers["content-type"].startswith("text/html")
    assert cli.headers["content-type"] == "application/json"
    assert bad.status_code == 404
    assert session_count(server) == before


def test_c2cjs_redirects_to_the_chat_page_with_the_token_in_the_fragment(
    server: LiveServer, rep_query: str
) -> None:
    with server.http() as http:
        response = http.get(f"/api/start_session?{rep_query}&c2cjs=1&locale=de")
        match = re.fullmatch(
            r"/chat/([0-9a-f]{32})\?locale=de#token=(\w+)",
            response.headers["location"],
        )
        assert response.status_code == 303
        assert match is not None
        lsid, token = match.groups()
        page = http.get(f"/chat/{lsid}?locale=de")
    assert page.status_code == 200
    assert f'data-lsid="{lsid}"' in page.text
    assert '<html lang="de">' in page.text
    assert token not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert authenticate(server, lsid, token) == 1


def test_the_chat_page_of_an_unknown_session_is_a_friendly_404(
    server: LiveServer,
) -> None:
    with server.http() as http:
        response = http.get("/chat/" + "0" * 32)
    assert response.status_code == 404
    assert "this support session does not exist" in response.text.lower()
