"""The trigger form of the sync DAG, generated from the options ``RunOptions`` declares with a form section.

An option the deployment also sets (its environment variable, e.g. ``AJERA_CRM_SYNC_MODE``) gets a
"deployment default" choice, the form's default, resolved when the run starts: the DAG is parsed once and
its Params must not freeze the environment of the process that parsed it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

import ajera_crm  # noqa: F401  (puts the project root on sys.path, for ``include``)
from include.sync import declared
from include.sync.declared import Spec
from include.sync.runs import DEPLOYMENT_DEFAULT, RunOptions, on_form

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def params() -> dict[str, Param]:
    return {name: _param(name, spec) for name, spec in on_form().items()}


def defaults() -> dict[str, Any]:
    """The form's values when nobody changes a field."""
    return {name: param.value for name, param in params().items()}


def _param(name: str, spec: Spec) -> Param:
    default = declared.default(RunOptions, name)
    choices = dict(spec.choices or {})
    schema: dict[str, Any] = {"title": spec.title, "section": spec.section, "description": spec.description}
    if spec.env and choices:
        choices = {DEPLOYMENT_DEFAULT: f"Deployment default ({spec.env}, else {choices[default]})", **choices}
        default = DEPLOYMENT_DEFAULT
    elif spec.env:  # a plain value on the form would override the deployment's every time
        raise TypeError(f"option {name} is on the form and set by {spec.env}: give it choices")
    if isinstance(default, tuple):  # a multiple choice
        schema.update(type="array", items={"type": "string", "enum": list(choices)}, examples=list(choices),
                      values_display=choices, minItems=1)
        return Param(list(default), **schema)
    if choices:
        return Param(default, enum=list(choices), values_display=choices, **schema)
    schema["type"] = _JSON_TYPES[type(default)]
    schema.update({key: value for key, value in (("minimum", spec.minimum), ("maximum", spec.maximum))
                   if value is not None})
    return Param(default, **schema)
