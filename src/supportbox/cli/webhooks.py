"""The ``webhook`` commands: outbound event recipients and their dead letters."""

from __future__ import annotations

import argparse
import json
import os

from supportbox.cli import common
from supportbox.storage.models import WebhookRecipient
from supportbox.webhooks import queue, recipients

SECRET_ENV = "SUPPORTBOX_WEBHOOK_SECRET"


def _events(text: str) -> list[str]:
    return text.split(",")


def register(commands: common.Subparsers) -> None:
    family = commands.add_parser("webhook", help="manage outbound event recipients")
    sub = family.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = common.subcommand(
        sub, "add", "add a recipient; prints a generated secret once", add_
    )
    add.add_argument("--name", required=True)
    add.add_argument("--url", required=True, help="http:// or https:// URL")
    _options(add)
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.add_argument("--json", action="store_true")

    listing = common.subcommand(sub, "list", "list recipients and their queues", list_)
    listing.add_argument("--json", action="store_true")

    update = common.subcommand(sub, "update", "change a recipient", update_)
    update.add_argument("--webhook", required=True, help="id or name")
    update.add_argument("--name")
    update.add_argument("--url")
    _options(update, defaults=False)
    state = update.add_mutually_exclusive_group()
    state.add_argument("--enable", action="store_true")
    state.add_argument("--disable", action="store_true")
    update.add_argument(
        "--new-secret", action="store_true", help="generate a secret and print it"
    )
    update.add_argument("--json", action="store_true")

    remove = common.subcommand(
        sub, "remove", "delete a recipient and its queue", remove_
    )
    remove.add_argument("--webhook", required=True, help="id or name")

    dead = common.subcommand(
        sub, "dead-letters", "list events given up on", dead_letters
    )
    dead.add_argument("--webhook", help="id or name; default every recipient")
    dead.add_argument("--json", action="store_true")

    replay_ = common.subcommand(
        sub, "replay", "queue dead letters for delivery again", replay
    )
    replay_.add_argument("--webhook", help="id or name: all of its dead letters")
    replay_.add_argument(
        "--delivery",
        type=int,
        action="append",
        default=[],
        metavar="ID",
        help="a dead letter's id (repeatable)",
    )


def _options(parser: argparse.ArgumentParser, defaults: bool = True) -> None:
    parser.add_argument(
        "--events",
        type=_events,
        help="comma-separated event names, or 'all'"
        + (" (default: all)" if defaults else ""),
    )
    parser.add_argument(
        "--secret",
        help=f"shared signing secret (16+ characters); else {SECRET_ENV}"
        + (", else one is generated" if defaults else ""),
    )
    if defaults:
        parser.add_argument("--send-custom-fields", action="store_true")
    else:
        parser.add_argument("--send-custom-fields", choices=["yes", "no"])
    parser.add_argument(
        "--retry-interval",
        type=float,
        metavar="SECONDS",
        help="longest wait between attempts"
        + (f" (default: {recipients.DEFAULT_RETRY_INTERVAL:g})" if defaults else ""),
    )
    parser.add_argument(
        "--retry-duration",
        type=float,
        metavar="SECONDS",
        help="how long to retry one event before it becomes a dead letter"
        + (f" (default: {recipients.DEFAULT_RETRY_DURATION:g})" if defaults else ""),
    )


def _secret(args: argparse.Namespace) -> str | None:
    if args.secret is not None:
        return str(args.secret)
    return os.environ.get(SECRET_ENV)


def _print_secret(recipient: WebhookRecipient, secret: str, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps({"id": recipient.id, "name": recipient.name, "secret": secret})
        )
        return
    print(f"secret: {secret}")
    print("the secret is shown only now; give it to the receiver to check signatures")


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def add_(args: argparse.Namespace) -> int:
    given = _secret(args)
    with common.database(args) as db:
        recipient, secret = recipients.add(
            db,
            args.name,
            args.url,
            events=args.events or (),
            enabled=not args.disabled,
            secret=given,
            send_custom_fields=args.send_custom_fields,
            retry_interval=_or(args.retry_interval, recipients.DEFAULT_RETRY_INTERVAL),
            retry_duration=_or(args.retry_duration, recipients.DEFAULT_RETRY_DURATION),
        )
        if args.json:
            shown = {"id": recipient.id, "name": recipient.name}
            print(json.dumps(shown if given else {**shown, "secret": secret}))
            return 0
        print(f"created webhook {recipient.name} (id {recipient.id})")
        if given is None:
            _print_secret(recipient, secret, False)
    return 0


COLUMNS = [
    "id",
    "name",
    "url",
    "events",
    "enabled",
    "custom_fields",
    "retry_interval",
    "retry_duration",
    "pending",
    "dead",
]


def list_(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        counts = queue.counts(db)
        rows = [
            {
                "id": r.id,
                "name": r.name,
                "url": r.url,
                "events": ",".join(r.events) or "all",
                "enabled": common.flag(r.enabled),
                "custom_fields": common.flag(r.send_custom_fields),
                "retry_interval": r.retry_interval,
                "retry_duration": r.retry_duration,
                "pending": counts.get(r.id, {}).get(queue.PENDING, 0),
                "dead": counts.get(r.id, {}).get(queue.DEAD, 0),
            }
            for r in recipients.list_all(db)
        ]
    common.emit_table(rows, COLUMNS, args.json)
    return 0


def update_(args: argparse.Namespace) -> int:
    enabled = True if args.enable else False if args.disable else None
    custom = None
    if args.send_custom_fields is not None:
        custom = args.send_custom_fields == "yes"
    with common.database(args) as db:
        recipient = recipients.update(
            db,
            args.webhook,
            name=args.name,
            url=args.url,
            events=args.events,
            enabled=enabled,
            secret=_secret(args) if args.secret is not None else None,
            send_custom_fields=custom,
            retry_interval=args.retry_interval,
            retry_duration=args.retry_duration,
        )
        if args.new_secret:
            recipient, secret = recipients.regenerate_secret(db, recipient.id)
            if not args.json:
                print(f"updated webhook {recipient.name}")
            _print_secret(recipient, secret, args.json)
            return 0
        print(f"updated webhook {recipient.name}")
    return 0


def remove_(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        name, dropped = recipients.remove(db, args.webhook)
    print(f"removed webhook {name} ({dropped} undelivered events dropped)")
    return 0


def dead_letters(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        recipient_id = None
        if args.webhook is not None:
            recipient_id = recipients.get(db, args.webhook).id
        rows = [
            {
                "id": row.id,
                "webhook": name,
                "event": row.event,
                "event_id": row.event_id,
                "lsid": row.lsid,
                "attempts": row.attempts,
                "failed_at": int(row.finished_at or 0),
                "last_error": row.last_error,
            }
            for row, name in queue.dead_letters(db, recipient_id)
        ]
    columns = ["id", "webhook", "event", "event_id", "lsid", "attempts"]
    common.emit_table(rows, [*columns, "failed_at", "last_error"], args.json)
    return 0


def replay(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        recipient_id = None
        if args.webhook is not None:
            recipient_id = recipients.get(db, args.webhook).id
        count = queue.replay(db, recipient_id=recipient_id, delivery_ids=args.delivery)
    print(f"queued {count} dead letter{'' if count == 1 else 's'} again")
    return 0
