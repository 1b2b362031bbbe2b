"""Generate the web archive of the bundled demo corpus, ``corpora/sample/web-archive/``.

Both pages below are *constructed illustrations* written for hrdiscourse; neither is a
real article or statement, and no third-party text is copied. The outlet, the
organisation and the people are invented; the urls are on example.org/.net. The
intended labels (see ``corpora/sample/README.md``) follow the definitions of
``shared/DOMAIN.md`` section 3, which come from Tara Santini, Alana Klein, Stella,
l'amie de Maimie & Butterfly Asian and Migrant Sex Worker Support Network, "Sex Work
and Harm Reduction Discourse: A Reflection" (2020).

The archive is what a crawler writes: a ``warcinfo`` record, then for each page the
``request`` and its ``response`` (HTTP 200, ``text/html``), gzip-compressed one member
per record. It holds no image, redirect or error page, so ``make demo`` still lists no
rejected input; the tests build those cases themselves (``tests/test_ingest_warc.py``).

Run from the repository root (warcio is a dependency of hrdiscourse)::

    .venv/bin/python corpora/tools/make_sample_warc.py [--out corpora/sample/web-archive]

Output is byte-for-byte reproducible: record ids are derived from the urls, the dates
are fixed, and warcio's gzip members carry no timestamp.
"""

from __future__ import annotations

import argparse
import io
import uuid
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

NAME = "harbourview-crawl-2024.warc.gz"
CRAWLED = "2024-06-12T14:03:00Z"
NOTICE = "Constructed illustration written for hrdiscourse; not a real article."

_PAGE = """<!DOCTYPE html>
<html lang="en-CA">
<head>
  <meta charset="utf-8">
  <title>{title} - {site}</title>
  <meta name="author" content="{author}">
  <meta property="og:title" content="{title}">
  <meta property="og:site_name" content="{site}">
  <meta property="article:published_time" content="{date}">
  <meta name="hrdiscourse:constructed" content="true">
  <link rel="canonical" href="{url}">
</head>
<body>
  <header><a href="/">{site}</a>
    <nav><ul><li><a href="/news">News</a></li><li><a href="/city">City</a></li>
      <li><a href="/about">About</a></li></ul></nav>
  </header>
  <main>
    <article>
      <h1>{title}</h1>
      <p class="constructed-notice"><strong>{notice}</strong></p>
      <p class="byline">By {author}, <time datetime="{date}">{shown_date}</time></p>
{body}
    </article>
    <aside><h2>Most read</h2><ul><li><a href="/r/1">Ferry timetable changes this summer</a></li>
      <li><a href="/r/2">Library extends weekend hours</a></li></ul></aside>
  </main>
  <footer><p>&copy; {site}. {notice}</p></footer>
</body>
</html>
"""

# Each page: its url, metadata, intended label and paragraphs.
PAGES: list[dict[str, object]] = [
    {
        "url": "https://news.example.org/harbourview/2024/06/police-outreach-van",
        "label": "coopted",
        "site": "Harbourview Tribune",
        "title": "Police outreach van to steer sex workers toward exit services",
        "author": "Dana Whitlock",
        "date": "2024-06-10",
        "shown_date": "10 June 2024",
        "paragraphs": [
            "Harbourview police will send an outreach van to the port district three nights a week, "
            "the department announced on Monday.",
            "Officers and a case worker on the van will offer women in the sex trade a way out: a bed "
            "at a transition house, addiction treatment and job training for those who agree to leave "
            "the industry.",
            "The department calls the van part of its harm reduction approach to helping women exit "
            "the sex trade.",
            "Women who accept a referral must attend weekly check-ins with an officer and stay sober "
            "to keep their place at the transition house.",
            "The inspector in charge of the vice unit said the van would also help officers identify "
            "victims of trafficking and gather information about buyers.",
        ],
    },
    {
        "url": "https://peers.example.net/harbourview/statements/drop-in-centre-funding",
        "label": "aligned",
        "site": "Harbourview Peer Network",
        "title": "Sex worker-led drop-in centre wins three years of funding",
        "author": "Harbourview Peer Network",
        "date": "2024-06-11",
        "shown_date": "11 June 2024",
        "paragraphs": [
            "Our drop-in centre, run by and for sex workers, has secured three years of funding from "
            "the province's community health fund.",
            "The centre offers harm reduction supplies, peer support, legal information and a safe "
            "place to rest, with no conditions attached.",
            "Nobody has to stop working, enter treatment or give their name to use the centre. "
            "Harm reduction means meeting people where they are and respecting their choices.",
            "Peer workers with lived experience in the sex trade make up the whole staff, and members "
            "decide how the centre runs.",
            "We will keep calling for the decriminalization of sex work, because the criminal law "
            "puts our members at risk.",
        ],
    },
]


def _record_id(value: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, value)}>"


def page_html(page: dict[str, object]) -> bytes:
    """The constructed page as served, UTF-8."""
    body = "\n".join(f"      <p>{p}</p>" for p in page["paragraphs"])  # type: ignore[union-attr]
    fields = {k: v for k, v in page.items() if isinstance(v, str)}
    return _PAGE.format(body=body, notice=NOTICE, **fields).encode("utf-8")


def write_archive(path: Path) -> Path:
    """Write the sample archive to ``path``."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        info = b"software: hrdiscourse corpora/tools/make_sample_warc.py\r\nformat: WARC File Format 1.1\r\n"
        writer.write_record(
            writer.create_warc_record(
                "",
                "warcinfo",
                payload=io.BytesIO(info),
                warc_content_type="application/warc-fields",
                warc_headers_dict={
                    "WARC-Record-ID": _record_id(f"warcinfo:{NAME}"),
                    "WARC-Date": CRAWLED,
                    "WARC-Filename": NAME,
                },
            )
        )
        for page in PAGES:
            url = str(page["url"])
            host = url.split("/")[2]
            path_part = "/" + url.split("/", 3)[3]
            request = f"GET {path_part} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: hrdiscourse-sample\r\n\r\n"
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "request",
                    payload=io.BytesIO(request.encode("ascii")),
                    warc_content_type="application/http; msgtype=request",
                    warc_headers_dict={"WARC-Record-ID": _record_id(f"request:{url}"), "WARC-Date": CRAWLED},
                )
            )
            html = page_html(page)
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(html)))],
                protocol="HTTP/1.1",
            )
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(html),
                    http_headers=headers,
                    warc_headers_dict={"WARC-Record-ID": _record_id(f"response:{url}"), "WARC-Date": CRAWLED},
                )
            )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("corpora/sample/web-archive"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = write_archive(args.out / NAME)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
