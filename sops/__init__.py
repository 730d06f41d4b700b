"""SOPs: task types, typed task inputs, and the SOP library (schema, loader, renderer).

This package is the bottom layer: it imports nothing of ours beyond itself, and never
SQLModel, FastAPI or Playwright. `sops/README.md` describes the data format, the input rules,
the result keys and the SOP schema.
"""
