"""The README's YAML reference is the models': every key, default and description.

The three blocks under "Reference: `outreach.yaml`", "`contacts.yaml`" and "`campaigns.yaml`" are
written by ``python -m outreach.reference --write README.md``; these tests fail when a model and
the README drift apart (a field added without the README, a README key no model has, a changed
description or default), and the trigger table is checked against the trigger models.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, Field, TypeAdapter, create_model

from outreach import campaigns, contacts, reference, settings
from outreach.campaigns import TRIGGER_KINDS, Trigger
from outreach.reference import REFERENCES, Reference

README_PATH = Path(__file__).resolve().parent.parent / "README.md"
README = README_PATH.read_text(encoding="utf-8")
FIX = "run: python -m outreach.reference --write README.md"


def readme_block(ref: Reference) -> str:
    start, end = reference.block_span(README, ref)
    return README[start:end]


def models() -> list[type[BaseModel]]:
    return [
        v
        for mod in (contacts, campaigns, settings)
        for v in vars(mod).values()
        if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == mod.__name__
    ]


@pytest.mark.parametrize("ref", REFERENCES, ids=[r.file for r in REFERENCES])
def test_the_readme_reference_is_the_models(ref: Reference) -> None:
    """The README's block is exactly what the models render: keys, values, comments."""
    assert readme_block(ref) == reference.render(ref), FIX


def test_every_field_has_a_description() -> None:
    missing = [
        f"{m.__name__}.{name}"
        for m in models()
        for name, info in m.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert not missing, f"give these fields a description: {missing}"


def uncommented(block: str) -> Any:
    """The block as YAML, with the commented-out example items ('# - url: ...') put back."""
    lines = block.splitlines()
    for i, ln in enumerate(lines):
        if re.match(r"\s*# - ", ln):  # the first line of an example item: its list is not empty
            lines[i - 1] = lines[i - 1].replace(": []", ":", 1)
    lines = [re.sub(r"^(\s*)# (?=- |  )", r"\1", ln) for ln in lines]
    return yaml.safe_load("\n".join(lines))


def drift(model: type[BaseModel], data: Any, at: str = "") -> list[str]:
    """Keys the README shows and the model lacks, and the model's keys the README does not show."""
    if not isinstance(data, dict):
        return [f"{at or 'the file'}: not a mapping in the README"]
    fields = model.model_fields
    out = [f"README key {at}{k} is no field of {model.__name__}" for k in data if k not in fields]
    for name, info in fields.items():
        if name not in data:
            out.append(f"{model.__name__}.{name} is missing from the README at {at}{name}")
            continue
        sub = reference._model_of(info.annotation)
        item = reference._item_model(info.annotation)
        value = data[name]
        if sub is not None and isinstance(value, dict):
            out += drift(sub, value, f"{at}{name}.")
        elif item is not None:
            for i, one in enumerate(value or []):
                out += drift(item, one, f"{at}{name}[{i}].")
    return out


@pytest.mark.parametrize("ref", REFERENCES, ids=[r.file for r in REFERENCES])
def test_every_key_is_in_both(ref: Reference) -> None:
    """Says which key drifted (the exact comparison above says only that something did)."""
    data = uncommented(readme_block(ref))
    if ref.list_key is not None:
        assert list(data) == [ref.list_key]
        problems = [p for one in data[ref.list_key] for p in drift(ref.model, one)]
    else:
        problems = drift(ref.model, data)
    assert not problems, f"{problems}; {FIX}"


def trigger_rows() -> dict[str, tuple[str, str]]:
    """The Triggers table of the campaigns reference: kind -> (keys, examples)."""
    section = README[README.index("## Reference: `campaigns.yaml`") : README.index("## Templates")]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        m = re.fullmatch(r"\| `(\w+)` \| (.*) \| (.*) \|", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def test_the_trigger_table_has_every_trigger_and_key() -> None:
    rows = trigger_rows()
    assert tuple(rows) == TRIGGER_KINDS
    for model in (
        campaigns.DateTrigger,
        campaigns.HolidayTrigger,
        campaigns.ScheduleTrigger,
        campaigns.IntervalTrigger,
        campaigns.AfterMeetingTrigger,
        campaigns.ContentTrigger,
    ):
        kind = model.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
        keys, _ = rows[kind]
        for name in model.model_fields:
            if name != "kind":
                assert f"`{name}`" in keys or f"`{name}:`" in keys, (kind, name)
        for field in re.findall(r"`field`: (.*?); `days_before`", keys):
            named = re.findall(r"`([a-z_.]+)`(?! \()|`([a-z_.]+)` \(", field)
            shown = {a or b for a, b in named} - {"start_date", "child-birthday"}
            assert shown >= set(campaigns.DATE_FIELDS), shown


def test_the_trigger_table_examples_are_valid_triggers() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(Trigger)
    found = 0
    for _, examples in trigger_rows().values():
        for example in re.findall(r"`(\{kind: .*?\})`", examples):
            adapter.validate_python(yaml.safe_load(example))
            found += 1
    assert found >= len(TRIGGER_KINDS)


# --------------------------------------------------------------------------- the check can fail


def settings_ref(**fields: Any) -> Reference:
    changed = create_model("Settings", __base__=settings.Settings, **fields)
    return Reference("outreach.yaml", changed, None, REFERENCES[0].column)


def test_a_field_added_to_a_model_is_missing_from_the_readme() -> None:
    ref = settings_ref(newsletter=(bool, Field(False, description="a new setting")))
    assert "newsletter: false" in reference.render(ref)
    assert reference.render(ref) != readme_block(REFERENCES[0])
    assert drift(ref.model, uncommented(readme_block(REFERENCES[0]))) == [
        "Settings.newsletter is missing from the README at newsletter"
    ]


def test_a_readme_key_the_model_lacks_is_found() -> None:
    block = readme_block(REFERENCES[0]) + "newsletter: false\n"
    assert drift(settings.Settings, uncommented(block)) == [
        "README key newsletter is no field of Settings"
    ]


def test_a_changed_description_or_default_changes_the_reference() -> None:
    readme = readme_block(REFERENCES[0])
    info = settings.Settings.model_fields["country"]
    described = settings_ref(country=(str, Field("US", description="another text")))
    defaulted = settings_ref(country=(str, Field("GB", description=info.description)))
    assert reference.render(described) != readme
    assert reference.render(defaulted) != readme
    example = settings.Settings.model_fields["timezone"]
    shifted = settings_ref(
        timezone=(str, Field("Europe/Berlin", description=example.description,
                             examples=example.examples))
    )
    assert "Europe/Berlin)" in reference.render(shifted)


def test_rewrite_puts_the_models_reference_into_the_readme() -> None:
    stale = README.replace("nightly_cap: 50 ", "nightly_cap: 99 ")
    assert stale != README
    assert reference.rewrite(stale) == README
