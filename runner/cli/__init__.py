"""The `sopwright` command line (Typer + Rich). The edge: it reads settings and wires the core."""
