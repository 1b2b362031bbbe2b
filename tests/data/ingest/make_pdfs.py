"""Regenerate the PDF inputs of the ingest golden tests (the outputs are committed).

Run from the repository root: ``.venv/bin/python tests/data/ingest/make_pdfs.py``.
``invariant=1`` makes reportlab write fixed dates and ids, so the files are reproducible.
"""

from __future__ import annotations

import random
from pathlib import Path

from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

HERE = Path(__file__).parent

PAGE_1 = [
    "Peer-led harm reduction services in Montreal",
    "Sex worker-led organisations deliver harm reduction supplies without conditions.",
    "Services do not require participants to exit the sex trade.",
]
PAGE_2 = [
    "The report calls for full decriminalization of sex work.",
    "Stigma reduction and labour rights are central to the approach.",
]


def _write(path: Path, pages: list[list[str]], *, encrypt: StandardEncryption | None = None) -> None:
    c = canvas.Canvas(str(path), invariant=1, pageCompression=0, encrypt=encrypt)
    c.setTitle("Harm Reduction in Practice")
    c.setAuthor("Alex Tremblay")
    for lines in pages:
        y = 750
        for line in lines:
            c.drawString(72, y, line)
            y -= 20
        c.showPage()
    c.save()


def _write_shapes_only(path: Path) -> None:
    # Stands in for a scanned page: marks on the page, no text layer.
    c = canvas.Canvas(str(path), invariant=1, pageCompression=0)
    for i in range(20):
        c.rect(72, 700 - i * 25, 300 + (i * 7) % 120, 12, fill=1)
    c.showPage()
    c.save()


def main() -> None:
    """Write every PDF input next to this script."""
    _write(HERE / "pdf_text.pdf", [PAGE_1, PAGE_2])
    _write(HERE / "pdf_encrypted.pdf", [PAGE_1], encrypt=StandardEncryption("s3cret", ownerPassword="owner"))
    _write(
        HERE / "pdf_owner_password_only.pdf",
        [PAGE_2],
        encrypt=StandardEncryption("", ownerPassword="owner", canModify=0),
    )
    _write_shapes_only(HERE / "pdf_no_text_layer.pdf")
    data = (HERE / "pdf_text.pdf").read_bytes()
    (HERE / "pdf_truncated.pdf").write_bytes(data[: len(data) // 5])
    (HERE / "pdf_random_bytes.pdf").write_bytes(random.Random(7).randbytes(2048))


if __name__ == "__main__":
    main()
