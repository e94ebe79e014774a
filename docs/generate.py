"""Write the reference parts of ``docs/settings.md`` and ``docs/cli.md`` from the code: the settings' ``Field``
descriptions, bounds and defaults, and the Typer app's commands and options.

Each file's generated part lies between the markers ``<!-- generated: start -->`` and ``<!-- generated: end -->``;
the prose around them is written by hand. Run ``.venv/bin/python docs/generate.py`` after changing a setting or a
command; ``tests/test_docs.py`` fails while either file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

DOCS = Path(__file__).resolve().parent
_BOUNDS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "min_length": "length ≥", "max_length": "length ≤"}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    if isinstance(value, str | Path):
        return f'`"{value}"`' if str(value) else '`""`'
    return f"`{value}`"


def _bounds(field: Any) -> str:
    found = []
    if get_origin(field.annotation) is Literal:
        found.append("one of " + ", ".join(f"`{choice}`" for choice in get_args(field.annotation)))
    for item in field.metadata:
        for key, sign in _BOUNDS.items():
            if getattr(item, key, None) is not None:
                found.append(f"{sign} {getattr(item, key)}")
    return ", ".join(found)


def settings_markdown() -> str:
    from pydantic_core import PydanticUndefined

    from broadsheet.config import settings

    lines = []
    for section, model_field in settings.Settings.model_fields.items():
        lines += [f"### `[{section}]`: {_cell(model_field.description or '')}", "",
                  "| setting | default | bounds | meaning |", "|---|---|---|---|"]
        for name, field in model_field.annotation.model_fields.items():  # type: ignore[union-attr]
            default = field.default if field.default is not PydanticUndefined else field.default_factory()
            lines.append(f"| `{section}.{name}` | {_default(default)} | {_bounds(field)} | "
                         f"{_cell(field.description or '')} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def _argument(param: Any) -> str:
    name = (param.metavar or param.name.upper()) + ("..." if param.nargs == -1 else "")
    return name if param.required else f"[{name}]"


def cli_markdown() -> str:
    import typer.main

    from broadsheet.flows import cli

    group = typer.main.get_command(cli.app)
    commands = {}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        inner = getattr(command, "commands", None)  # a group (`sources`): its subcommands
        commands.update({f"{name} {sub}": c for sub, c in inner.items()} if inner else {name: command})
    lines = []
    for name, command in commands.items():
        params = [p for p in command.params if p.name != "help"]
        usage = " ".join(_argument(p) for p in params if p.param_type_name == "argument")
        lines += [f"### `broadsheet {name}{' ' + usage if usage else ''}`", "", _cell(command.help or ""), ""]
        if params:
            lines += ["| argument or option | default | meaning |", "|---|---|---|"]
        for param in params:
            names = ", ".join(f"`{o}`" for o in param.opts) if param.param_type_name == "option" \
                else f"`{_argument(param)}`"
            default = "" if param.default is None or param.required else _default(
                param.default.value if hasattr(param.default, "value") else param.default)
            lines.append(f"| {names} | {default} | {_cell(getattr(param, 'help', '') or '')} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


START, END = "<!-- generated: start -->", "<!-- generated: end -->"


def regenerated(text: str, generated: str) -> str:
    """``text`` with what lies between its markers replaced by ``generated``."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n<!-- written by docs/generate.py from the code: edit the code, then run it -->\n\n" \
           f"{generated}\n\n{END}{tail}"


def outputs() -> dict[Path, str]:
    """Each reference file as it should read now."""
    return {path: regenerated(path.read_text(encoding="utf-8"), make())
            for path, make in ((DOCS / "settings.md", settings_markdown), (DOCS / "cli.md", cli_markdown))}


def main() -> int:
    for path, text in outputs().items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
