"""HTML report templates to PDF bytes with xhtml2pdf."""

import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

TEMPLATES = {"evidence": "reports/pdf/evidence_report.html", "case": "reports/pdf/case_report.html"}


# DejaVu covers Latin, Cyrillic, Greek, Arabic and more; the PDF base fonts cover Latin-1 only, so a victim's
# or platform's name in another script would otherwise print as boxes.
FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "sans_bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "mono_bold": "DejaVuSansMono-Bold.ttf",
}


class RenderingError(RuntimeError):
    pass


def report_fonts() -> dict[str, str]:
    """Paths of the Unicode fonts to embed, or {} (then the PDF base fonts are used) when they are not installed."""
    directory = Path(settings.REPORT_FONT_DIR)
    paths = {name: directory / filename for name, filename in FONT_FILES.items()}
    return {name: path.as_posix() for name, path in paths.items()} if all(p.exists() for p in paths.values()) else {}


def pdf_render(kind: str, context: dict[str, Any]) -> bytes:
    """Render the report template of `kind` ("evidence" or "case") to an unsigned PDF."""
    html = render_to_string(TEMPLATES[kind], {**context, "fonts": report_fonts()})
    output = io.BytesIO()
    # Reports fetch nothing from the network and read only the font files.
    policy = ResourceAccessPolicy(base_dir=Path(settings.REPORT_FONT_DIR), allow_remote=False)
    status = pisa.CreatePDF(html, dest=output, encoding="utf-8", resource_policy=policy)
    if status.err:
        raise RenderingError(f"xhtml2pdf reported {status.err} error(s) rendering the {kind} report")
    return output.getvalue()
