"""Outbound event recipients (webhooks) and their dead letters.

The pages do what ``supportbox webhook`` does (docs/webhooks.md). A
generated secret is shown once, on the answer to the POST that made it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.errors import InvalidInput
from supportbox.storage.models import WebhookRecipient
from supportbox.web.admin.forms import attempt, done, flag, note, number, show, text
from supportbox.web.security.guard import page, runtime_of
from supportbox.web.security.store import Login
from supportbox.webhooks import payload, queue, recipients

LIST = "/admin/webhooks"


def _seconds(form: FormData, name: str, what: str) -> float:
    raw = text(form, name, 30)
    try:
        return recipients.check_seconds(float(raw), what)
    except ValueError:
        raise InvalidInput(f"{what} must be a number of seconds") from None


def _settings(form: FormData) -> dict[str, Any]:
    """What the create and edit forms share, checked."""
    return {
        "url": text(form, "url", 2000),
        "events": [str(v) for v in form.getlist("events")],
        "send_custom_fields": flag(form, "send_custom_fields"),
        "retry_interval": _seconds(form, "retry_interval", "retry interval"),
        "retry_duration": _seconds(form, "retry_duration", "retry duration"),
    }


def _wake_worker(request: Request, db: Session) -> None:
    """Deliver replayed rows as soon as this transaction commits."""
    notify = runtime_of(request).services["webhooks"].notify
    sa_event.listen(db, "after_commit", lambda _db: notify(), once=True)


def _create(
    request: Request, login: Login, form: FormData, db: Session
) -> tuple[str, WebhookRecipient | None, str]:
    """Add a recipient; (error, recipient, generated secret)."""
    name, given = text(form, "name", 100), text(form, "secret", 500)
    made: list[tuple[WebhookRecipient, str]] = []
    error = attempt(
        db,
        lambda: made.append(
            recipients.add(db, name, secret=given or None, **_settings(form))
        ),
    )
    if error:
        return error, None, ""
    recipient, secret = made[0]
    note(db, request, login, "webhook.create", webhook=recipient.name)
    return "", recipient, "" if given else secret


def _change(
    request: Request, login: Login, form: FormData, db: Session, ref: int
) -> tuple[str, str, str]:
    """One change to recipient ``ref``; (error, message, new secret)."""
    what = text(form, "do")
    name = recipients.get(db, ref).name
    secret = ""
    if what == "update":
        error = attempt(
            db,
            lambda: recipients.update(
                db, ref, name=text(form, "name", 100), **_settings(form)
            ),
        )
        message = f"Webhook {name} saved."
    elif what in {"enable", "disable"}:
        error = attempt(
            db, lambda: recipients.update(db, ref, enabled=what == "enable")
        )
        message = f"Webhook {name} {what}d."
    elif what == "regenerate":
        made: list[str] = []
        error = attempt(
            db, lambda: made.append(recipients.regenerate_secret(db, ref)[1])
        )
        secret = made[0] if made else ""
        message = f"Webhook {name} has a new secret; the old one no longer signs."
    elif what == "delete":
        dropped: list[int] = []
        error = attempt(db, lambda: dropped.append(recipients.remove(db, ref)[1]))
        message = f"Webhook {name} deleted; undelivered events dropped: {sum(dropped)}."
    else:
        return "unknown change", "", ""
    if not error:
        note(db, request, login, f"webhook.{what}", webhook=name)
    return error, message, secret


@page("admin")
def webhook_list(
    request: Request, login: Login, form: FormData, db: Session
) -> Response:
    error = secret = ""
    shown = None
    if request.method == "POST":
        error, shown, secret = _create(request, login, form, db)
        if shown is not None and not secret:
            return done(LIST, f"Webhook {shown.name} was created.")
    return show(
        request,
        login,
        "webhooks.html",
        "webhooks",
        webhooks=recipients.list_all(db),
        counts=queue.counts(db),
        names=payload.NAMES,
        retry_interval=recipients.DEFAULT_RETRY_INTERVAL,
        retry_duration=recipients.DEFAULT_RETRY_DURATION,
        secret=secret,
        shown=shown,
        form=form if error else None,
        error=error,
    )


def _letters(
    request: Request, login: Login, form: FormData, db: Session, recipient_id: int
) -> tuple[str, str]:
    """Replay or discard dead letters; (error, message)."""
    what = text(form, "do")
    given = (number(str(v)) for v in form.getlist("delivery"))
    ids = [n for n in given if n is not None]
    scope = "one" if ids else "all"
    counted: list[int] = []
    if what == "replay":
        error = attempt(
            db,
            lambda: counted.append(
                queue.replay(db, recipient_id=recipient_id, delivery_ids=ids)
            ),
        )
        _wake_worker(request, db)
        message = f"Dead letters queued for delivery again: {sum(counted)}."
    elif what == "discard":
        error = attempt(
            db,
            lambda: counted.append(
                queue.discard(db, recipient_id=recipient_id, delivery_ids=ids)
            ),
        )
        message = f"Dead letters discarded: {sum(counted)}."
    else:
        return "unknown change", ""
    if not error:
        name = recipients.get(db, recipient_id).name
        detail = {"deliveries": ",".join(map(str, ids))} if ids else {}
        note(db, request, login, f"webhook.{what}_{scope}", webhook=name, **detail)
    return error, message


@page("admin")
def webhook_page(
    request: Request, login: Login, form: FormData, db: Session
) -> Response:
    recipient = recipients.get(db, int(request.path_params["webhook_id"]))
    here = f"{LIST}/{recipient.id}"
    error = secret = ""
    if request.method == "POST":
        if text(form, "do") in {"replay", "discard"}:
            error, message = _letters(request, login, form, db, recipient.id)
        else:
            error, message, secret = _change(request, login, form, db, recipient.id)
        if not error and not secret:
            return done(LIST if text(form, "do") == "delete" else here, message)
    return show(
        request,
        login,
        "webhook.html",
        "webhooks",
        webhook=recipient,
        counts=queue.counts(db).get(recipient.id, {}),
        letters=[row for row, _name in queue.dead_letters(db, recipient.id)],
        names=payload.NAMES,
        secret=secret,
        form=form if error and text(form, "do") == "update" else None,
        error=error,
    )


routes = [
    Route(LIST, webhook_list, methods=["GET", "POST"]),
    Route(f"{LIST}/{{webhook_id:int}}", webhook_page, methods=["GET", "POST"]),
]
