"""`sopwright webhooks ...`: the delivery log, redelivery, the test event, subscriptions, the
dispatcher and a receiver."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from standardwebhooks.webhooks import WebhookVerificationError

from runner.cli.children import run_until_signalled
from runner.cli.context import out, print_json, system
from runner.core.webhooks.events import OPTIONAL_EVENTS, DeliveryStatus
from runner.core.webhooks.public import delivery_public, webhook_test_result
from runner.core.webhooks.receiver import Received, Receiver

webhooks_app = typer.Typer(
    help="Webhook deliveries: log, redelivery, test event, dispatcher.", no_args_is_help=True
)


@webhooks_app.command("list")
def list_deliveries(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    task_id: Annotated[str | None, typer.Option(help="Only this task's deliveries (its id).")] = None,
    status: Annotated[DeliveryStatus | None, typer.Option(help="Only deliveries in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with every attempt).")] = False,
) -> None:
    """The account's webhook deliveries, newest first."""
    with system() as core:
        found = core.accounts.find(account)
        page = core.webhooks.deliveries(found.id, task_id=task_id, status=status, limit=limit)
    shown = [delivery_public(d, page.attempts[d.id]) for d in page.deliveries]
    if as_json:
        print_json([d.model_dump(mode="json") for d in shown])
        return
    table = Table(
        "delivery id", "event", "task id", "status", "attempts", "last code", "next attempt", "error"
    )
    for d in shown:
        last = d.attempt_log[-1] if d.attempt_log else None
        table.add_row(
            d.id,
            d.event,
            str(d.task_id) if d.task_id is not None else "-",
            d.status,
            str(d.attempts),
            str(last.status_code) if last and last.status_code else "-",
            d.next_attempt_at or "-",
            (d.last_error or "-")[:60],
        )
    out.print(table)


@webhooks_app.command("redeliver")
def redeliver(delivery_id: Annotated[str, typer.Argument(help="The delivery id (= webhook-id).")]) -> None:
    """Send a delivery again, with the same webhook-id, from the first attempt of the schedule."""
    with system() as core:
        delivery = core.webhooks.redeliver(core.webhooks.owner(delivery_id), delivery_id)
    out.print(f"Delivery {delivery.id} queued again; a running dispatcher sends it now.")


@webhooks_app.command("test")
def send_test(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send a signed `webhook_test` event to the account's URL now and report what happened."""
    with system() as core:
        found = core.accounts.find(account)
        sent = core.webhooks.send_test(found.id)
        delivery, attempts = core.webhooks.get(found.id, sent.delivery.id)
    result = webhook_test_result(delivery, attempts, sent.post, endpoint_disabled=sent.endpoint_disabled)
    if as_json:
        print_json(result.model_dump(mode="json"))
    elif result.ok:
        out.print(
            f"[green]ok[/]: HTTP {result.status_code} in {result.latency_ms} ms (delivery {delivery.id})."
        )
    else:
        out.print(f"[red]failed[/]: {result.error} (delivery {delivery.id}).")
    if result.endpoint_disabled:
        out.print("[yellow]The endpoint is disabled (it answered 410): set its URL again to re-enable it.[/]")
    if not result.ok:
        raise typer.Exit(1)


@webhooks_app.command("events")
def set_events(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    events: Annotated[
        list[str] | None,
        typer.Argument(
            help="Optional events to send besides task_finished: "
            + ", ".join(sorted(e.value for e in OPTIONAL_EVENTS))
            + ". None: task_finished only."
        ),
    ] = None,
) -> None:
    """Choose the optional events an account receives (task_finished is always sent)."""
    with system() as core:
        found = core.accounts.find(account)
        chosen = core.webhooks.set_events(found.id, events or [])
    out.print(f"Webhook events for [bold]{found.name}[/]: " + ", ".join(["task_finished", *chosen]))


@webhooks_app.command("dispatch")
def dispatch(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
) -> None:
    """Run a webhook dispatcher (any number may run against one database)."""
    with system() as core:
        dispatcher = core.webhooks.dispatcher()
        if once:
            sent = dispatcher.run_until_idle()
            out.print(f"{sent} webhook attempt(s) made.")
            return
        # The dispatcher runs in a thread; this one waits for SIGINT/SIGTERM.
        run_until_signalled(
            dispatcher.in_background(), f"Webhook dispatcher {dispatcher.name} running; Ctrl-C to stop."
        )


@webhooks_app.command("receive")
def receive(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 8901,
    secret: Annotated[
        str | None, typer.Option(envvar="SOPWRIGHT_RECEIVER_SECRET", help="whsec_ secret to verify with.")
    ] = None,
) -> None:
    """A local receiver for trying webhooks out: prints each event and whether its signature verifies."""

    def show(request: Received) -> None:
        try:
            envelope = request.verify(secret) if secret else json.loads(request.body)
            verdict = "[green]verified[/]" if secret else "[yellow]not verified (no --secret)[/]"
        except (WebhookVerificationError, ValueError) as exc:
            envelope, verdict = {}, f"[red]signature check failed: {exc}[/]"
        data = envelope.get("data") if isinstance(envelope, dict) else None
        task = data if isinstance(data, dict) else {}
        out.print(
            f"{request.headers.get('webhook-id')} {envelope.get('event', '?')} "
            f"task={task.get('id', '-')} status={task.get('status', '-')} {verdict}",
            highlight=False,
            soft_wrap=True,
        )

    receiver = Receiver(port=port, on_request=show)
    run_until_signalled(receiver.running(), f"Receiving webhooks on {receiver.url}; Ctrl-C to stop.")
