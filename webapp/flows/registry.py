"""The flows this installation runs: named in FLOWS, each a built-in name, an entry point of
the `scriptorium.flows` group, or a `module:Class` path."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from webapp.flows.engine import Flow
from webapp.plugins import load_class

ENTRY_POINT_GROUP = "scriptorium.flows"
BUILT_IN = {
    "import_witness": "webapp.flows.catalog:ImportWitness",
    "delete_witness": "webapp.flows.catalog:DeleteWitness",
    "delete_work": "webapp.flows.catalog:DeleteWork",
    "delete_series": "webapp.flows.catalog:DeleteSeries",
    "delete_digitization": "webapp.flows.catalog:DeleteDigitization",
    "merge_witnesses": "webapp.flows.catalog:MergeWitnesses",
    "move_digitization": "webapp.flows.catalog:MoveDigitization",
}


def init_flows(app: Flask) -> None:
    loaded = [load_class(name, ENTRY_POINT_GROUP, BUILT_IN, Flow) for name in app.config["FLOWS"]]
    app.extensions["flows"] = {flow_class.name: flow_class for flow_class in loaded}


def installed_flows() -> dict[str, type[Flow]]:
    return cast(dict[str, type[Flow]], current_app.extensions["flows"])
