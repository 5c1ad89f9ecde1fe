"""Session-key guessing is limited per client address."""

from __future__ import annotations

from publickit import key_used_by, make_key, session_count
from serverkit import LiveServer


def test_after_ten_wrong_keys_even_a_right_key_must_wait(server: LiveServer) -> None:
    key = make_key(server)
    wrong = "9999999" if key.short_key != "9999999" else "9999998"
    with server.http() as http:
        answers = [
            http.post("/api/start_session", data={"short_key": wrong}).status_code
            for _ in range(10)
        ]
        blocked = http.post("/api/start_session", data={"short_key": key.short_key})
        by_url = http.get(f"/?ak={key.url_token}")
    assert answers == [404] * 10
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many attempts" in blocked.text
    assert by_url.status_code == 429
    assert key_used_by(server, key.id) is None
    assert session_count(server) == 0


def test_the_limit_counts_per_address_and_only_key_attempts(
    server: LiveServer,
) -> None:
    limiter = server.runtime.services["key_guesses"]
    for _ in range(10):
        limiter.failure("ip:192.0.2.1")
    assert limiter.retry_after("ip:192.0.2.1") > 0
    assert limiter.retry_after("ip:127.0.0.1") == 0
    with server.http() as http:
        response = http.get("/api/start_session?id=999")  # no key involved
    assert response.status_code == 404
    assert limiter.retry_after("ip:127.0.0.1") == 0
