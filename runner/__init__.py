"""The sopwright service: settings, storage, queue, worker, webhooks, HTTP API and CLI."""
