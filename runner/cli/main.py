"""The `sopwright` console script: one module per command group (`accounts`, `keys`, `sops`, `db`,
`webhooks`, `users`, `portals`, `artifacts`), one per top-level command (`serve` and `portal`,
`worker`, `replay`, `demo`)."""

from __future__ import annotations

import typer

from runner.cli.accounts import accounts_app
from runner.cli.artifacts import artifacts_app
from runner.cli.batches_cmd import batches_app, tasks_app
from runner.cli.db import db_app
from runner.cli.demo import demo
from runner.cli.keys import keys_app
from runner.cli.portals import portals_app
from runner.cli.replay import replay
from runner.cli.schedules_cmd import schedules_app
from runner.cli.serve import portal, serve
from runner.cli.sops import sops_app
from runner.cli.users import users_app
from runner.cli.webhooks import webhooks_app
from runner.cli.worker import worker

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
