"""The webhook admin pages over HTTP: CSRF, permissions, bad input, deletion."""

from __future__ import annotations

import time

import webclient
from serverkit import LiveServer
from supportbox.storage.models import AuditEvent, WebhookDelivery, WebhookRecipient
from supportbox.webhooks import payload, queue, recipients


def dead_letter(server: LiveServer) -> tuple[int, int]:
    """A recipient with one dead letter; (recipient id, delivery id)."""
    with server.runtime.write_db() as db, db.begin():
        recipient, _secret = recipients.add(
            db, "ticketing", "https://tickets.example.com/hook", enabled=False
        )
        row = WebhookDelivery(
            recipient_id=recipient.id,
            event_id=payload.new_event_id(),
            event=payload.BEGIN,
            lsid="",
            body="event=support_conference_begin",
            status=queue.DEAD,
            attempts=3,
            created_at=time.time(),
            next_attempt_at=time.time(),
            last_error="HTTP 500",
            finished_at=time.time(),
        )
        db.add(row)
        db.flush()
        return recipient.id, row.id


def statuses(server: LiveServer) -> list[str]:
    with server.runtime.db() as db:
        return [row.status for row in db.query(WebhookDelivery)]


def test_every_webhook_form_needs_the_csrf_token(server: LiveServer) -> None:
    hook_id, letter = dead_letter(server)
    client = webclient.admin(server)
    create = {"name": "other", "url": "https://x.example.com/", "retry_interval": "1"}
    attempts = [
        client.post("/admin/webhooks", data=create),
        client.post(f"/admin/webhooks/{hook_id}", data={"do": "delete"}),
        client.post(
            f"/admin/webhooks/{hook_id}",
            data={"do": "discard", "delivery": str(letter), "csrf_token": "x"},
        ),
    ]
    for answer in attempts:
        assert answer.status_code == 403
        assert "security token" in answer.text
    assert statuses(server) == [queue.DEAD]
    with server.runtime.db() as db:
        assert [r.name for r in db.query(WebhookRecipient)] == ["ticketing"]


def test_a_representative_may_not_open_the_webhook_pages(server: LiveServer) -> None:
    hook_id, _letter = dead_letter(server)
    rep = webclient.rep(server)
    for path in ("/admin/webhooks", f"/admin/webhooks/{hook_id}"):
        assert rep.get(path).status_code == 403


def test_unknown_webhooks_and_dead_letters_are_answered_plainly(
    server: LiveServer,
) -> None:
    hook_id, letter = dead_letter(server)
    client = webclient.admin(server)
    missing = client.get("/admin/webhooks/9999")
    assert missing.status_code == 404
    assert "no webhook" in missing.text

    page = f"/admin/webhooks/{hook_id}"
    token = webclient.csrf_of(client.get(page).text)
    wrong = client.post(
        page, data={"do": "replay", "delivery": "9999", "csrf_token": token}
    )
    assert wrong.status_code == 400
    assert "no dead letter 9999" in wrong.text
    assert statuses(server) == [queue.DEAD]

    # A disabled recipient's replayed letter waits in its queue.
    replayed = client.post(
        page, data={"do": "replay", "delivery": str(letter), "csrf_token": token}
    )
    assert replayed.status_code == 303
    assert statuses(server) == [queue.PENDING]


def test_deleting_a_webhook_drops_its_queue_and_is_audited(server: LiveServer) -> None:
    hook_id, _letter = dead_letter(server)
    client = webclient.admin(server)
    page = f"/admin/webhooks/{hook_id}"
    token = webclient.csrf_of(client.get(page).text)
    answer = client.post(page, data={"do": "delete", "csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/webhooks?ok=")
    assert (
        "undelivered events dropped: 1." in client.get(answer.headers["location"]).text
    )
    assert statuses(server) == []
    with server.runtime.db() as db:
        row = db.query(AuditEvent).filter_by(action="webhook.delete").one()
        assert row.actor == "admin"
        assert row.detail == {"webhook": "ticketing"}
