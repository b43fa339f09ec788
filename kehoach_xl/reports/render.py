"""Jinja2 environment for the briefing, reminder and report templates.

Templates ship in ``templates/`` at the top of the repository (``kehoach_xl/templates``
links to it); the folder named by ``templates`` in kehoach.toml (default: ``templates/``
beside kehoach.toml, i.e. beside the master) overrides any of them by name, so the office
can change the wording without touching code. Nothing else is a template source: never a
folder derived from a workbook's name (the button server gets that name from the network).

Templates are rendered in Jinja2's sandbox (an edited template cannot reach Python objects,
files or commands: ``{{ cycler.__init__.__globals__.os }}`` is a ``SecurityError``) and HTML
templates autoescape what they insert.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from kehoach_xl import vn
from kehoach_xl.model.config import Config

_ROMAN = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def package_templates() -> Path:
    return Path(str(resources.files("kehoach_xl") / "templates"))


def template_dirs(config: Config | None = None) -> list[Path]:
    """The configured template folder (when it exists), then the package's."""
    dirs = []
    if config is not None and config.templates:
        local = config.resolve(config.templates)
        if local.is_dir() and local.resolve() != package_templates().resolve():
            dirs.append(local)
    dirs.append(package_templates())
    return dirs


def is_html(name: str | None) -> bool:
    return bool(name) and (".html" in name or ".htm" in name)


def roman(n: int) -> str:
    out = ""
    for value, sym in _ROMAN:
        while n >= value:
            out += sym
            n -= value
    return out


def sentence(s: Any) -> str:
    """Capitalise the first letter only (Jinja's ``capitalize`` lowercases the rest, names included)."""
    s = str(s)
    return s[:1].upper() + s[1:]


def environment(config: Config | None = None, *, autoescape: Any = is_html) -> jinja2.Environment:
    """The sandboxed Jinja2 environment every template of the program is rendered in.

    One environment per (template folders, autoescape), kept for the life of the process:
    building one per render recompiled every template each time (~200 compilations per
    briefing). Its loader still checks each template file's modification time, so an
    edited template is picked up without a restart.
    """
    dirs = tuple(str(d.resolve()) for d in template_dirs(config))
    return _environment(dirs, autoescape)


@functools.lru_cache(maxsize=32)
def _environment(dirs: tuple[str, ...], autoescape: Any) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(d) for d in dirs])
    env = SandboxedEnvironment(
        loader=loader,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a typo in an edited template fails loudly, not silently blank
        extensions=["jinja2.ext.do"],
    )
    # Every number, date and name filter is the locale module's own (kehoach_xl.vn).
    env.filters.update(vn_date=vn.date, vn_num=vn.number, vn_percent=vn.percent, vn_int=vn.integer,
                       vn_list=vn.vn_list, lower_first=vn.lower_first, mid=vn.mid_sentence,
                       roman=roman, sentence=sentence)
    return env


def render(name: str, context: dict[str, Any], config: Config | None = None) -> str:
    text = environment(config).get_template(name).render(**context)
    if not name.endswith(".html.j2"):
        # Templates may leave runs of blank lines where a section was omitted.
        lines = text.splitlines()
        out: list[str] = []
        for ln in lines:
            ln = ln.rstrip()
            if ln or (out and out[-1]):
                out.append(ln)
        text = "\n".join(out).strip() + "\n"
    return text
