"""The one Jinja2 environment SOP templates are compiled and rendered with.

Sandboxed and immutable (a template cannot call methods that change data), StrictUndefined (a
name that does not exist is an error, never an empty string). `None` renders as "". Compiled
templates are cached by their text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


def _finalize(value: Any) -> Any:
    return "" if value is None else value


ENVIRONMENT = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    finalize=_finalize,
    keep_trailing_newline=False,
)


@lru_cache(maxsize=512)
def compiled(source: str) -> Template:
    """The compiled template for `source` (raises jinja2.TemplateSyntaxError)."""
    return ENVIRONMENT.from_string(source)


def check_template(source: str, *, allowed: frozenset[str]) -> None:
    """Raise ValueError if `source` does not compile or names a variable outside `allowed`."""
    try:
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template does not compile: {exc.message} (line {exc.lineno})") from None
    unknown = meta.find_undeclared_variables(tree) - allowed
    if unknown:
        raise ValueError(
            f"template uses unknown name(s) {', '.join(sorted(unknown))}; "
            f"available: {', '.join(sorted(allowed))}"
        )


def attributes_of(source: str, variable: str) -> set[str]:
    """Attribute names read directly off `variable` (`fields.member_id`, `fields["payer"]`)."""
    try:
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError:
        return set()
    names = {
        node.attr
        for node in tree.find_all(nodes.Getattr)
        if isinstance(node.node, nodes.Name) and node.node.name == variable
    }
    names |= {
        str(node.arg.value)
        for node in tree.find_all(nodes.Getitem)
        if isinstance(node.node, nodes.Name)
        and node.node.name == variable
        and isinstance(node.arg, nodes.Const)
    }
    return names
