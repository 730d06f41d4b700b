"""The `sopwright` console script."""

from __future__ import annotations

import typer

from runner.cli.accounts import accounts_app, keys_app
from runner.cli.batches_cmd import batches_app, tasks_app
from runner.cli.demo import demo
from runner.cli.replay import replay
from runner.cli.schedules_cmd import schedules_app
from runner.cli.serve import db_app, portal, serve
from runner.cli.sops_cmd import sops_app
from runner.cli.users_cmd import users_app
from runner.cli.webhooks_cmd import rotate_webhook_secret, webhooks_app
from runner.cli.worker_cmd import artifacts_app, portals_app, worker

app = typer.Typer(
    name="sopwright",
    help="Run payer-portal tasks (eligibility, claims, prior auths, appeals) with browser agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(sops_app, name="sops")
app.add_typer(db_app, name="db")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(users_app, name="users")
accounts_app.command("rotate-webhook-secret")(rotate_webhook_secret)
app.add_typer(portals_app, name="portals")
app.add_typer(tasks_app, name="tasks")
app.add_typer(batches_app, name="batches")
app.add_typer(schedules_app, name="schedules")
app.add_typer(artifacts_app, name="artifacts")
app.command("serve")(serve)
app.command("worker")(worker)
app.command("replay")(replay)
app.command("demo")(demo)
app.command("portal")(portal)

if __name__ == "__main__":
    app()
