"""Build a hostile corpus in a folder, at test time (nothing big or binary is committed).

``build(corpus, secret)`` writes every case into ``corpus`` and returns the expected
accounting: one :class:`Case` per input (a file, or a line of a JSONL file) with the
outcome the run must give it. ``secret`` is a file *outside* the corpus that the XXE
feed tries to read; its content must never reach the outputs.

Run by hand to look at the files: ``.venv/bin/python tests/data/hostile/make_hostile.py DIR``.
"""

from __future__ import annotations

import codecs
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Outcome = Literal["analysed", "error", "duplicate"]

SECRET = "TOP-SECRET-7f3a9c-do-not-leak"
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_URL = "javascript:alert(1)"
#: Size of the generated big text file.
BIG_BYTES = 30 * 1024 * 1024

HR_TEXT = (
    "The peer-led drop-in offers harm reduction supplies without conditions. "
    "Sex workers lead the service and decide what support they need."
)
FRENCH = (
    "Le programme de réduction des méfaits est mené par et pour les travailleuses du sexe. "
    "Il n'exige pas que les participantes quittent l'industrie ; l'accès est inconditionnel, "
    "à Montréal comme à Québec."
)


@dataclass(frozen=True)
class Case:
    """One input of the hostile corpus: where it is and what the run must make of it."""

    source: str
    outcome: Outcome
    why: str


def _pdf(path: Path, *, encrypt: str | None = None, text: bool = True) -> bytes:
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    enc = StandardEncryption(encrypt, ownerPassword="owner") if encrypt else None
    c = canvas.Canvas(str(path), invariant=1, pageCompression=0, encrypt=enc)
    if text:
        c.drawString(72, 750, "Peer-led harm reduction services do not require anyone to exit.")
    else:
        for i in range(20):  # a scanned page: marks, no text layer
            c.rect(72, 700 - i * 25, 300, 12, fill=1)
    c.showPage()
    c.save()
    return path.read_bytes()


def _jsonl_lines() -> list[tuple[str, Outcome, str]]:
    """(line, outcome, why) of records.jsonl, one input per non-blank line."""
    ok = "analysed"
    rows: list[tuple[object, Outcome, str]] = [
        (
            {"id": "plain", "text": "Police announced a crackdown on street-level sex work downtown."},
            ok,
            "valid",
        ),
        ("{not json", "error", "invalid JSON"),
        ("[1, 2, 3]", "error", "an array, not an object"),
        ("42", "error", "a number, not an object"),
        ('"just a string"', "error", "a string, not an object"),
        ({"title": "no text"}, "error", "text missing"),
        ({"text": 17}, "error", "text is a number"),
        ({"text": None}, "error", "text is null"),
        ({"text": ["a", "b"]}, "error", "text is a list"),
        ({"text": "\u200b\u200d\x00 \t"}, "error", "text only invisible characters"),
        ("[" * 100_000 + "]" * 100_000, "error", "deeply nested JSON"),
        (
            {
                "id": "../../../../etc/passwd",
                "title": "../../escape/../title",
                "text": "Exit programs rescue women.",
            },
            ok,
            "id with ../",
        ),
        (
            {"id": "a/b/c", "title": "slashes/in/title", "text": "The ministry funds a way out of sex work."},
            ok,
            "/",
        ),
        (
            {"id": "C:\\Windows\\system32", "title": "back\\slash", "text": "Bylaw inspectors visit hotels."},
            ok,
            "backslashes",
        ),
        (
            {
                "id": "rtl\u202egnp.exe\u200f",
                "title": "\u202eevil\u202c title \U0001f480\U0001f525",
                "text": "Harm reduction \U0001f489 saves lives; "
                "\u05e9\u05dc\u05d5\u05dd and \u0645\u0631\u062d\u0628\u0627.",
            },
            ok,
            "RTL marks and emoji",
        ),
        (
            {
                "id": "nul\x00id",
                "title": "nul\x00title",
                "text": "Decriminalization of sex work\x00 is the goal.",
            },
            ok,
            "NUL in id, title and text",
        ),
        (
            {"id": "\x00\u200b", "text": "An id that is only invisible characters gets a hash id."},
            ok,
            "empty id",
        ),
        (
            {"id": ".hidden", "title": "..", "text": "A leading dot must not hide the output file."},
            ok,
            "dot id",
        ),
        (
            {
                "id": f"xss{XSS_SCRIPT}",
                "title": f"Title {XSS_SCRIPT} {XSS_IMG}",
                "author": XSS_IMG,
                "outlet": f"<b>{XSS_SCRIPT}</b>",
                "url": XSS_URL,
                "text": f"Hello {XSS_SCRIPT} and {XSS_IMG}. The exit program is part of a harm "
                "reduction approach, the ministry said.",
            },
            ok,
            "script and javascript: url",
        ),
        (
            {"id": "xss-url-2", "url": " JaVaScRiPt:alert(2)", "text": f"Rescue {XSS_IMG} harm reduction."},
            ok,
            "mixed-case javascript: url",
        ),
        (
            {
                "id": "data-url",
                "url": "data:text/html,<script>alert(3)</script>",
                "text": "Harm reduction hub.",
            },
            ok,
            "data: url",
        ),
    ]
    lines = []
    for obj, outcome, why in rows:
        lines.append((obj if isinstance(obj, str) else json.dumps(obj), outcome, why))
    return lines


def build(corpus: Path, secret: Path) -> list[Case]:
    """Write the hostile corpus into ``corpus``; return the expected outcome of every input.

    Args:
        corpus: An empty folder.
        secret: A file outside ``corpus`` holding :data:`SECRET`, the XXE target (it may be a DTD
            declaring ``<!ENTITY leak "SECRET">``, which ``dtd.rss`` refers to).

    Returns:
        One Case per input, in no particular order.
    """
    cases: list[Case] = []
    root = corpus.name

    def add(name: str, data: bytes, outcome: Outcome, why: str, *, item: str = "") -> Path:
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        cases.append(Case(f"{root}/{name}{item}", outcome, why))
        return path

    add("empty.txt", b"", "error", "zero bytes")
    add("blank.md", b"  \n\t\r\n   \n", "error", "whitespace only")
    add("nul-only.txt", b"\x00" * 64, "error", "only NUL bytes")
    add("random.pdf", random.Random(7).randbytes(4096), "error", "random bytes named .pdf")
    add("pdf-header-then-garbage.pdf", b"%PDF-1.4\n" + random.Random(8).randbytes(4096), "error", "garbage")
    tmp = corpus / "_pdf.tmp"
    good = _pdf(tmp)
    add("truncated.pdf", good[: len(good) // 3], "error", "truncated PDF")
    add("encrypted.pdf", _pdf(tmp, encrypt="s3cret"), "error", "encrypted PDF")
    add("scanned.pdf", _pdf(tmp, text=False), "error", "no text layer")
    tmp.unlink()
    add("random.txt", random.Random(9).randbytes(8192), "error", "binary bytes named .txt")
    add("unknown.xyz", b"some text", "error", "unsupported suffix")

    add("french-cp1252.txt", (FRENCH + " \u2019 \u0153uvre").encode("cp1252"), "analysed", "cp1252")
    add("french-latin1.md", (FRENCH + " Fin.").encode("latin-1") + b" \x81\x8d", "analysed", "Latin-1")
    add(
        "utf16.txt",
        codecs.BOM_UTF16_LE + HR_TEXT.replace("drop-in", "clinic").encode("utf-16-le"),
        "analysed",
        "",
    )
    add(
        "utf16be.txt",
        codecs.BOM_UTF16_BE + "UTF-16 BE harm reduction text.".encode("utf-16-be"),
        "analysed",
        "",
    )
    add(
        "controls.txt",
        (
            "harm\u200breduction \x00\x01\x02 \u200d\u2060 sex\u00adwork \x1b[31m red "
            "\x7f\u202e rtl\u202c end\r\nok\r"
        ).encode(),
        "analysed",
        "control and zero-width characters",
    )
    add(
        "front-matter-xss.md",
        f"---\ntitle: '{XSS_SCRIPT}'\nauthor: '{XSS_IMG}'\nurl: '{XSS_URL}'\n---\n"
        f"Body {XSS_SCRIPT} with harm reduction and police partnerships.\n".encode(),
        "analysed",
        "script in front matter",
    )
    add(
        f"file {XSS_IMG} \u202ename.txt",
        b"A file whose name is hostile still gets a safe report about harm reduction.",
        "analysed",
        "hostile file name",
    )
    add("bad-front-matter.md", b"---\ntitle: [unclosed\n---\nBody text.\n", "error", "invalid YAML")

    jsonl = _jsonl_lines()
    path = corpus / "records.jsonl"
    path.write_text("\n".join(line for line, _, _ in jsonl) + "\n\n", encoding="utf-8")
    for n, (_, outcome, why) in enumerate(jsonl, start=1):
        cases.append(Case(f"{root}/records.jsonl:line {n}", outcome, why))

    add("no-text-column.csv", b"id,title,body\n1,A,harm reduction\n2,B,exit\n", "error", "no text column")
    add("only-header.csv", b"id,text\n", "error", "a header and no rows")

    nested = (
        "<html><body>" + "<div>" * 5000 + "Harm reduction deep inside." + "</div>" * 5000 + "</body></html>"
    )
    add("nested.html", nested.encode(), "analysed", "5,000 nested divs")
    add(
        "unclosed.html", b"<html><body>" + b"<div><p><span>" * 3000 + b"Police crackdown text", "analysed", ""
    )
    add(
        "script.html",
        f"<html><head><title>{XSS_SCRIPT}</title><script>alert(9)</script></head><body><article>"
        f'<p onclick="alert(1)">Harm reduction {XSS_IMG} is peer-led and unconditional, '
        "the coalition said in a statement released on Monday morning to reporters.</p>"
        f'<a href="{XSS_URL}">link</a></article></body></html>'.encode(),
        "analysed",
        "scripts and handlers inside a page",
    )

    big_line = ("Harm reduction saves lives and the city council met again today. " * 16 + "\n").encode()
    with (corpus / "big.txt").open("wb") as fh:
        for _ in range(BIG_BYTES // len(big_line) + 1):
            fh.write(big_line)
    cases.append(Case(f"{root}/big.txt", "error", "30 MB, above the size limit"))

    dup = b"The council approved a new bus schedule after a short debate on Tuesday."
    add("dup-a.txt", dup, "analysed", "first copy")
    add(
        "sub/dup-b.md",
        b"  The council approved a new bus schedule\nafter a short debate on Tuesday.  ",
        "duplicate",
        "",
    )

    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(2, 10))
    add(
        "laughs.xml",
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol1 "lol">\n{lol}]>\n<rss version="2.0"><channel>'
        "<title>L</title><item><title>Bomb</title><description>&lol9;</description></item></channel></rss>".encode(),
        "error",
        "billion laughs",
    )
    for suffix, uri in ((".rss", secret.resolve().as_uri()), (".atom", str(secret.resolve()))):
        add(
            f"xxe{suffix}",
            f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{uri}">\n]>\n<rss version="2.0">'
            "<channel><title>XXE</title><item><title>Leak &xxe;</title>"
            "<description>Harm reduction news: &xxe;"
            "</description></item></channel></rss>".encode(),
            "error",
            "XXE",
        )
    add(
        "xxe-param.xml",
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "{secret.resolve().as_uri()}">\n%p;\n]>'
        "\n<rss><channel><item><description>x</description></item></channel></rss>".encode(),
        "error",
        "XXE through a parameter entity",
    )
    add(
        "dtd.rss",
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{secret.resolve().as_uri()}">\n<rss version="2.0">'
        "<channel><title>DTD &leak;</title><item><title>T &leak;</title><description>External DTD harm "
        "reduction &leak; end.</description></item></channel></rss>".encode(),
        "analysed",
        "external DTD: never fetched, its entities stay unexpanded",
        item=":item 1",
    )
    return cases


if __name__ == "__main__":
    dest = Path(sys.argv[1])
    (dest / "corpus").mkdir(parents=True)
    (dest / "secret.dtd").write_text(f'<!ENTITY leak "{SECRET}">\n', encoding="utf-8")
    for case in build(dest / "corpus", dest / "secret.dtd"):
        print(f"{case.outcome:9} {case.source!r}  {case.why}")
