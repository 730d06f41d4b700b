"""Webhooks: an outbox written with each status change, signed, leased, retried and logged.

    outbox.py      the delivery row, in the transaction of the status change (called by `move`)
    signing.py     Standard Webhooks headers and the envelope's in-body `signature`
    transport.py   connects to the address the destination policy checked (runner.core.destinations)
    sender.py      one POST: 15 s timeout, no redirects, bounded read
    schedule.py    Svix's retry schedule with jitter and Retry-After
    store.py       leases, attempts, the delivery log, redelivery
    dispatcher.py  claims due deliveries and sends them (worker, serve, or `webhooks dispatch`)
    wakeup.py      wakes dispatchers when a due delivery commits (in-process; NOTIFY on PostgreSQL)
    listener.py    LISTEN on PostgreSQL: a NOTIFY from any process wakes a dispatcher
    watcher.py     on SQLite: `PRAGMA data_version` shows another process's commit to a dispatcher
    reconnect.py   the listener's and the watcher's reconnect loop: backoff, wake on reopen, stop
    service.py     what the API and CLI call
    receiver.py    a real HTTP receiver for tests and demos (verifies with `standardwebhooks`)

This module imports nothing, so that `runner.core.transitions` can import `outbox` without cycles.
"""
