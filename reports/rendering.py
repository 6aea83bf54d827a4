"""HTML report templates to PDF bytes with xhtml2pdf."""

import io
from typing import Any

from django.template.loader import render_to_string
from xhtml2pdf import pisa

TEMPLATES = {"evidence": "reports/pdf/evidence_report.html", "case": "reports/pdf/case_report.html"}


class RenderingError(RuntimeError):
    pass


def pdf_render(kind: str, context: dict[str, Any]) -> bytes:
    """Render the report template of `kind` ("evidence" or "case") to an unsigned PDF."""
    html = render_to_string(TEMPLATES[kind], context)
    output = io.BytesIO()
    status = pisa.CreatePDF(html, dest=output, encoding="utf-8")
    if status.err:
        raise RenderingError(f"xhtml2pdf reported {status.err} error(s) rendering the {kind} report")
    return output.getvalue()
