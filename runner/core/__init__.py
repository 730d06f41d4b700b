"""Domain core: settings, storage, task services. Knows nothing about HTTP or the CLI."""
