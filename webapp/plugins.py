"""Classes an installation names in its settings: a built-in name, an entry point of a group
(third parties' classes), or a `module:Class` path."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import TypeVar

T = TypeVar("T")


def load_class(name: str, group: str, built_in: dict[str, str], base: type[T]) -> type[T]:
    plugins = {point.name: point for point in entry_points(group=group)}
    if name in plugins:
        loaded = plugins[name].load()
    else:
        path = built_in.get(name, name)
        module, _, attribute = path.partition(":")
        if not attribute:
            raise LookupError(f"Nothing of {group} is named {name!r}.")
        loaded = getattr(import_module(module), attribute)
    if not (isinstance(loaded, type) and issubclass(loaded, base)):
        raise TypeError(f"{name!r} of {group} is not a {base.__name__} class.")
    return loaded
