"""Wiring module-level handlers to Gradio events with their dependencies bound.

Handlers take their dependencies (a context with the service and the components they update)
as leading parameters, so tests call them directly. Gradio finds a handler's special parameters
(gr.Request, gr.SelectData: by type hint; gr.Progress: by default value) in its signature and
type hints; functools.partial hides the type hints (gradio.utils.get_type_hints reads
partial.__call__), so `bind` returns a plain function with the remaining signature instead."""
from __future__ import annotations

import functools
import inspect
from typing import Callable

PRIVATE = dict(api_visibility="private")


def bind(fn: Callable, *deps) -> Callable:
    """fn with its first len(deps) parameters fixed; the rest keep their names, defaults and
    type hints (what Gradio inspects), and the name stays fn's."""
    sig = inspect.signature(fn)
    rest = list(sig.parameters.values())[len(deps):]

    @functools.wraps(fn)
    def bound(*args, **kwargs):
        return fn(*deps, *args, **kwargs)

    bound.__signature__ = sig.replace(parameters=rest)
    bound.__annotations__ = {k: v for k, v in getattr(fn, "__annotations__", {}).items()
                             if k == "return" or k in {p.name for p in rest}}
    return bound
