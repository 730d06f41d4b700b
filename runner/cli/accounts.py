"""`sopwright accounts ...`: create, list and configure client accounts (defaults, webhook URL and
secret)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from runner.cli.context import out, print_json, system
from runner.core.defaults import validate_defaults
from runner.core.public import iso_z

accounts_app = typer.Typer(help="Create and configure client accounts.", no_args_is_help=True)


@accounts_app.command("create")
def create(
    name: str,
    webhook_url: Annotated[str | None, typer.Option(help="Where task_finished webhooks are sent.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Create an account; prints its id, an API key and a webhook secret (shown once)."""
    with system() as core:
        created = core.accounts.create(name, webhook_url=webhook_url)
    if as_json:
        print_json(
            {
                "account_id": created.account.public_id,
                "api_key": created.api_key,
                "webhook_secret": created.webhook_secret,
            }
        )
        return
    out.print(f"Account [bold]{created.account.name}[/] created.")
    out.print(f"  account id:     {created.account.public_id}")
    out.print(f"  API key:        {created.api_key}")
    out.print(f"  webhook secret: {created.webhook_secret}")
    out.print("[yellow]Store the API key now: it is not shown again.[/]")


@accounts_app.command("list")
def list_accounts(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List accounts."""
    with system() as core:
        accounts = core.accounts.all()
    if as_json:
        print_json(
            [
                {
                    "account_id": a.public_id,
                    "name": a.name,
                    "webhook_url": a.webhook_url,
                    "defaults": a.defaults,
                }
                for a in accounts
            ]
        )
        return
    table = Table("name", "account id", "webhook URL", "defaults", "tasks", "created")
    for a in accounts:
        defaults = ", ".join(f"{k}={v}" for k, v in sorted(a.defaults.items()))
        table.add_row(
            a.name,
            str(a.public_id),
            a.webhook_url or "-",
            defaults or "-",
            str(a.task_counter),
            iso_z(a.created_at),
        )
    out.print(table)


@accounts_app.command("set-defaults")
def set_defaults(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    billing_npi: Annotated[str | None, typer.Option(help="Billing provider NPI.")] = None,
    provider_npi: Annotated[str | None, typer.Option(help="Rendering/requesting provider NPI.")] = None,
    tax_id: Annotated[str | None, typer.Option(help="Billing tax id (EIN).")] = None,
    place_of_service: Annotated[str | None, typer.Option(help="Two-digit CMS place of service.")] = None,
    payer: Annotated[str | None, typer.Option(help="Default payer key.")] = None,
    timely_filing_days: Annotated[int | None, typer.Option(help="Claim timely-filing window.")] = None,
    follow_up: Annotated[
        list[str] | None,
        typer.Option(
            "--follow-up",
            help="TYPE=on|off: create the follow-up of TYPE's SOP (e.g. submit_claim=off); repeatable.",
        ),
    ] = None,
) -> None:
    """Set the defaults that fill what a task's data omits, and which follow-ups run."""
    values: dict[str, object] = {
        "billing_npi": billing_npi,
        "provider_npi": provider_npi,
        "tax_id": tax_id,
        "place_of_service": place_of_service,
        "payer": payer,
        "timely_filing_days": timely_filing_days,
        "follow_up": _switches(follow_up) if follow_up else None,
    }
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        raise typer.BadParameter("give at least one default, e.g. --billing-npi 2000000002")
    with system() as core:
        found = core.accounts.find(account)
        updated = core.accounts.set_defaults(found.id, validate_defaults(given))
    out.print(
        f"Defaults for [bold]{updated.name}[/]: "
        + ", ".join(f"{k}={v}" for k, v in sorted(updated.defaults.items()))
    )


def _switches(given: list[str]) -> dict[str, str]:
    """`--follow-up submit_claim=off` (repeatable) as {"submit_claim": "off"}."""
    switches: dict[str, str] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise typer.BadParameter(f"{item!r}: write TYPE=on or TYPE=off, e.g. submit_claim=off")
        switches[key.strip()] = value.strip()
    return switches


@accounts_app.command("set-webhook")
def set_webhook(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    url: Annotated[str, typer.Argument(help="The webhook URL; '' to remove it.")],
) -> None:
    """Set (or clear) the account's webhook URL."""
    with system() as core:
        found = core.accounts.find(account)
        core.accounts.set_webhook_url(found.id, url or None)
    out.print(f"Webhook URL for [bold]{found.name}[/]: {url or '(none)'}")


@accounts_app.command("rotate-webhook-secret")
def rotate_webhook_secret(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    overlap_hours: Annotated[
        float, typer.Option(min=0, help="Hours during which the old secret still signs too.")
    ] = 24.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Make a new webhook secret (shown once); the old one also signs until the overlap ends."""
    with system() as core:
        found = core.accounts.find(account)
        secret = core.webhooks.rotate_secret(found.id, overlap=timedelta(hours=overlap_hours))
    if as_json:
        print_json({"account_id": found.id, "webhook_secret": secret, "overlap_hours": overlap_hours})
        return
    out.print(f"New webhook secret for [bold]{found.name}[/]: {secret}")
    out.print(
        f"Both secrets sign for the next {overlap_hours:g} hour(s); update the receiver, then only the "
        "new one signs. [yellow]Store it now: it is not shown again.[/]"
    )
