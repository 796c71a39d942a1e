"""The day-close report as HTML (Jinja2, autoescaped: payer names and remittance are untrusted text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,             # every {{ }} is HTML-escaped, whatever the file extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(model: dict[str, Any]) -> str:
    """Render the report (day close, corrections, Klärungsliste, key figures, signature lines) as HTML."""
    return _env().get_template("report.html.j2").render(m=model)
