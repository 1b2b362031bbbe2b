"""McGill-style citations and the endnote parentheticals of the seed report.

The seed report (Santini, Klein, Stella & Butterfly 2020) annotates media items in
McGill Guide style, several items per note after "See e.g.", each followed by a
parenthetical saying what the item does with harm-reduction language (endnote xiii):

    Robin Grand, "Federal funding helps women at risk safely leave sex trade"
    (24 April 2019), online: *Penticton Western News* <http://...> (frames an exit
    program as part of a harm reduction approach)

:func:`format_citation` builds the citation, :func:`annotate` the parenthetical from a
``documents.jsonl`` result (its label, links and spans), :func:`endnotes` groups the
items by pattern and numbers the notes in lowercase Roman numerals, and
:func:`to_markdown` writes them as the seed's ``Endnotes`` list does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

__all__ = [
    "Endnote",
    "EndnoteItem",
    "annotate",
    "citation_parts",
    "endnote_item",
    "endnotes",
    "format_citation",
    "format_date",
    "group_endnotes",
    "roman",
    "safe_url",
    "smart_quotes",
    "to_markdown",
]

Lang = Literal["en", "fr"]

MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}

#: Link strengths from strongest to weakest (DOMAIN.md section 2).
STRENGTHS: tuple[str, ...] = ("direct", "sentence", "nearby", "document")
_RANK = {s: i for i, s in enumerate(STRENGTHS)}

_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ].*)?$")
_WS = re.compile(r"\s+")
_MISSING = frozenset({"none", "null", "nan", "nat", "n/a"})
#: A character refused in a url: a control character (below 32), ``<>"'`` or a backtick or
#: space; one regex scan instead of a Python test per character (most of format_citation).
_URL_REFUSED = re.compile(r"[\x00-\x1f<>\"'` ]")
_HTTP_URL = re.compile(r"^https?://[^/?#\s]+")


# --------------------------------------------------------------------------- citation


def _clean(value: Any) -> str:
    """A metadata value as one line of text; ``None`` and blanks become ``""``."""
    if value is None or (isinstance(value, float) and value != value):
        return ""  # None, or NaN from a spreadsheet's empty cell
    if isinstance(value, (list, tuple)):
        return _authors([_clean(v) for v in value])
    text = _WS.sub(" ", str(value)).strip()
    # Placeholders written by converters that stringified a missing value.
    return "" if text.lower() in _MISSING else text


def _authors(names: list[str]) -> str:
    # McGill: two authors joined by "&", three or more "First et al".
    names = [n for n in names if n]
    if len(names) <= 2:
        return " & ".join(names)
    return f"{names[0]} et al"


def format_date(value: Any, *, lang: Lang = "en") -> str:
    """``2019-04-24`` as ``24 April 2019`` (``24 avril 2019`` in French).

    ``YYYY-MM`` gives ``April 2019``, ``YYYY`` the year; an ISO timestamp keeps its
    date. Anything else is returned as given (the schema keeps unparseable dates raw).
    """
    raw = _clean(value)
    m = _ISO_DATE.match(raw)
    if not m:
        return raw
    year, month, day = m.group(1), m.group(2), m.group(3)
    months = MONTHS.get(lang, MONTHS["en"])
    if month is None:
        return year
    if not 1 <= int(month) <= 12:
        return raw
    month_name = months[int(month) - 1]
    if day is None:
        return f"{month_name} {year}"
    try:
        d = date(int(year), int(month), int(day)).day
    except ValueError:
        return raw
    day_text = "1er" if (lang == "fr" and d == 1) else str(d)
    return f"{day_text} {month_name} {year}"


def safe_url(value: Any) -> str | None:
    """The url if it is an http(s) address, else ``None``.

    A bare ``www.`` host gets ``http://``; ``javascript:``, ``data:`` and every other
    scheme are refused, so a url can be rendered as a link without risk.
    """
    url = _clean(value)
    if not url or _URL_REFUSED.search(url):
        return None
    low = url.lower()
    if low.startswith("www."):
        url, low = "http://" + url, "http://" + low
    if _HTTP_URL.match(low):
        return url
    return None


def _url_display(url: str) -> str:
    """The url as the seed prints it: no scheme (``www.cbc.ca/news/...``)."""
    return re.sub(r"^https?://", "", url, flags=re.IGNORECASE)


@dataclass(frozen=True)
class _Parts:
    author: str
    title: str
    date: str
    outlet: str
    url: str | None


def _parts(meta: Mapping[str, Any], lang: Lang) -> _Parts:
    title = _clean(meta.get("title"))
    # A quotation inside a quoted title takes single quotes (McGill).
    title = title.replace('"', "'").replace("“", "‘").replace("”", "’")
    return _Parts(
        author=_clean(meta.get("author")),
        title=title,
        date=format_date(meta.get("date"), lang=lang),
        outlet=_clean(meta.get("outlet")),
        url=safe_url(meta.get("url")),
    )


def citation_parts(meta: Mapping[str, Any], *, lang: Lang = "en") -> dict[str, str | None]:
    """The cleaned parts of a citation, for templates that lay them out themselves.

    Returns:
        ``author``, ``title``, ``date`` (formatted), ``outlet`` (``""`` when missing),
        ``url`` (http(s) only, else ``None``) and ``online`` (``online:``/``en ligne :``).
    """
    p = _parts(meta, lang)
    return {
        "author": p.author,
        "title": p.title,
        "date": p.date,
        "outlet": p.outlet,
        "url": p.url,
        "online": "en ligne :" if lang == "fr" else "online:",
        "open_quote": "« " if lang == "fr" else "“",
        "close_quote": " »" if lang == "fr" else "”",
    }


def _assemble(
    p: _Parts, *, lang: Lang, quotes: tuple[str, str], outlet: str, link: str, online_label: str
) -> str:
    title = f"{quotes[0]}{p.title}{quotes[1]}" if p.title else ""
    date = f"({p.date})" if p.date else ""
    # "Author, "Title" (date)"; without a title the date follows the author directly.
    first = " ".join(x for x in (", ".join(x for x in (p.author, title) if x), date) if x)
    where = " ".join(x for x in (outlet, link) if x)
    if where and link:
        where = f"{online_label} {where}"
    return ", ".join(x for x in (first, where) if x)


def format_citation(meta: Mapping[str, Any], *, lang: Lang = "en") -> str:
    """A McGill-style citation of a document from its metadata.

    ``Author, "Title" (D Month YYYY), online: *Outlet* <url>``; every missing part is
    dropped with its punctuation (never ``None``, empty parentheses or stray commas).
    The url is kept only when it is http(s). French (``lang="fr"``) follows the
    Guide McGill: ``Auteur, « Titre » (24 avril 2019), en ligne : *Média* <url>``.

    Args:
        meta: a documents.jsonl dict, or any mapping with ``author``, ``title``,
            ``date``, ``outlet`` and ``url`` (all optional).
        lang: ``en`` or ``fr``.

    Returns:
        The citation, ``""`` when the metadata has none of those parts.
    """
    p = _parts(meta, lang)
    quotes = ("« ", " »") if lang == "fr" else ('"', '"')
    return _assemble(
        p,
        lang=lang,
        quotes=quotes,
        outlet=f"*{p.outlet}*" if p.outlet else "",
        link=f"<{p.url}>" if p.url else "",
        online_label="en ligne :" if lang == "fr" else "online:",
    )


# "_" inside a word (exit_abstinence) never starts emphasis in CommonMark: left alone.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>$|]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def _md(text: str) -> str:
    """Escape Markdown inline syntax (the seed escapes ``$`` too: ``\\$3M``)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def smart_quotes(text: str) -> str:
    """Straight double quotes to curly ones, as the seed prints them."""
    out = []
    for i, ch in enumerate(text):
        if ch == '"':
            prev = text[i - 1] if i else " "
            out.append("“" if (prev.isspace() or prev in "([{—-") else "”")
        else:
            out.append(ch)
    return "".join(out)


def _citation_markdown(meta: Mapping[str, Any], *, lang: Lang = "en") -> str:
    """The citation as the seed's Markdown endnotes print it (curly quotes, url link)."""
    p = _parts(meta, lang)
    p = _Parts(author=_md(p.author), title=_md(p.title), date=_md(p.date), outlet=_md(p.outlet), url=p.url)
    link = ""
    if p.url:
        href = p.url.replace("(", "%28").replace(")", "%29")
        link = f"[{_md(_url_display(p.url))}]({href})"
    quotes = ("« ", " »") if lang == "fr" else ("“", "”")
    return _assemble(
        p,
        lang=lang,
        quotes=quotes,
        outlet=f"*{p.outlet}*" if p.outlet else "",
        link=link,
        online_label="en ligne :" if lang == "fr" else "online:",
    )


# --------------------------------------------------------------------------- phrases


@dataclass(frozen=True)
class CategoryPhrase:
    """How the parentheticals name a signal category.

    Attributes:
        noun: singular noun phrase for "frames X as part of a harm reduction approach".
        plural: for "criticizes X presented as harm reduction".
        emphasis: gerund phrase for "emphasizes X, while also mentioning ...".
        favour: what an opponent argues for: "rejects harm reduction in favour of X".
    """

    noun: str
    plural: str
    emphasis: str
    favour: str


#: Co-opting categories of DOMAIN.md section 1.
COOPTING_PHRASES: dict[str, CategoryPhrase] = {
    "exit_abstinence": CategoryPhrase(
        "an exit program", "exit programs", "giving sex workers the option to exit", "abstinence and exiting"
    ),
    "relapse_pathologizing": CategoryPhrase(
        "recovery from sex work",
        "recovery programs",
        "recovery and the risk of relapse",
        "recovery",
    ),
    "rescue_saving": CategoryPhrase(
        "a rescue program", "rescue programs", "rescuing women from the sex trade", "rescue"
    ),
    "trafficking_exploitation": CategoryPhrase(
        "an anti-trafficking program",
        "anti-trafficking programs",
        "fighting human trafficking and sexual exploitation",
        "fighting trafficking",
    ),
    "victim_deviance": CategoryPhrase(
        "support for women at risk",
        "programs that treat sex workers as victims",
        "portraying sex workers as victims",
        "protecting victims",
    ),
    "law_enforcement": CategoryPhrase(
        "police involvement",
        "police-led programs",
        "the role of police and law enforcement",
        "law enforcement",
    ),
    "criminalization_prohibition": CategoryPhrase(
        "criminal prohibition",
        "criminal prohibitions",
        "criminalizing sex work or drug use",
        "criminalization",
    ),
    "conditional_support": CategoryPhrase(
        "conditional support",
        "conditional support programs",
        "making support conditional",
        "conditional support",
    ),
    "surveillance_profiling": CategoryPhrase(
        "surveillance and profiling",
        "surveillance and profiling measures",
        "spotting the signs and reporting people",
        "surveillance",
    ),
    "behaviour_control": CategoryPhrase(
        "behaviour change requirements",
        "programs that control behaviour",
        "changing people's behaviour and choices",
        "behaviour change",
    ),
    "nuisance_public_order": CategoryPhrase(
        "public order measures",
        "public order measures",
        "public order and community safety",
        "public order",
    ),
    "moral_balancing": CategoryPhrase(
        "balancing community concerns",
        "appeals to balance community concerns",
        "balancing the concerns of the community",
        "community concerns",
    ),
    "eradication_ideal": CategoryPhrase(
        "the goal of ending sex work or drug use",
        "eradication goals",
        "ending sex work or drug use",
        "eradication",
    ),
}

#: Domain extension (DOMAIN.md section 1, seed endnote xxii): keyword -> purpose.
EXTENSION_PURPOSES: tuple[tuple[str, str], ...] = (
    ("alcohol_gambling", "address alcohol use and gambling"),
    ("climate", "mitigate harm from climate change"),
    ("carbon", "mitigate harm from climate change"),
    ("environment", "mitigate environmental harm"),
    ("wildlife", "respond to wildlife disease"),
    ("sport", "address doping in sport"),
    ("doping", "address doping in sport"),
    ("diet", "address diet and nutrition"),
    ("nutrition", "address diet and nutrition"),
    ("tobacco", "promote reduced-risk tobacco and vaping products"),
    ("vaping", "promote reduced-risk tobacco and vaping products"),
    ("alcohol", "address alcohol use"),
    ("gambling", "address gambling"),
    ("finance", "manage financial risk"),
    ("cyber", "manage cybersecurity risk"),
    ("ai", "manage risks of artificial intelligence"),
    ("social_media", "mitigate harm from social media"),
    ("technology", "manage technology risks"),
    ("parenting", "guide parenting"),
)

#: Aligned principles (DOMAIN.md section 1; seed section 2 and section 5 core elements).
ALIGNED_PRINCIPLES: tuple[tuple[str, str], ...] = (
    ("agency", "agency and self-determination"),
    ("self_determination", "agency and self-determination"),
    ("rights", "human and labour rights"),
    ("labour", "human and labour rights"),
    ("decrim", "full decriminalization"),
    ("community_led", "programs led by and for the affected community"),
    ("led", "programs led by and for the affected community"),
    ("peer", "programs led by and for the affected community"),
    ("lived", "lived experience and meaningful participation"),
    ("participation", "lived experience and meaningful participation"),
    ("judgement", "non-judgement and stigma reduction"),
    ("judgment", "non-judgement and stigma reduction"),
    ("stigma", "non-judgement and stigma reduction"),
    ("structural", "attention to structural factors"),
    ("unconditional", "unconditional, low-barrier support"),
    ("barrier", "unconditional, low-barrier support"),
    ("requested", "supports identified by the person"),
    ("pragmat", "pragmatism and meeting people in the here and now"),
)

#: Words that make "harm reduction <word>" a noun phrase worth quoting.
HR_HEADS: frozenset[str] = frozenset(
    """approach approaches strategy strategies lens model models committee committees program
    programs programme programmes framework frameworks service services supplies supply
    intervention interventions policing worker workers initiative initiatives principle principles
    philosophy perspective policy policies measure measures practice practices centre center
    site sites team teams kit kits plan plans tool tools agency agencies organization organisation
    group groups coordinator network""".split()
)

#: Heads that make a signal's own text a noun phrase ("exit program").
_NP_HEADS: frozenset[str] = frozenset(
    """program programs programme programmes service services strategy strategies initiative
    initiatives fund funds funding training court courts diversion project projects plan plans
    team teams unit units campaign campaigns operation operations option options pathway
    pathways route routes""".split()
)

#: First words that make a signal a verb phrase ("leave sex work").
_VERB_STARTS: frozenset[str] = frozenset(
    """leave leaving leaves exit exiting exits quit quitting escape escaping escapes transition
    transitioning abstain abstaining get getting rescue rescuing save saving stop stopping end
    ending recover recovering""".split()
)
_HELPERS: frozenset[str] = frozenset(
    "help helps helping helped assist assists assisting enable enables enabling encourage encouraging "
    "allow allows allowing support supporting".split()
)
_OBJECTS: frozenset[str] = frozenset(
    """people women men girls youth individuals workers sex them those persons clients residents
    participants survivors victims""".split()
)
_NOT_HEADS: frozenset[str] = frozenset(
    """is are was were be been being aims aim aimed designed intended meant want wants wanted used
    trying tries tried order able how need needs needed plans planned going way""".split()
)
_WORD = re.compile(r"[\w'’-]+")


def _lookup(category: str, table: tuple[tuple[str, str], ...], prefix: str) -> str | None:
    key = category.lower()
    key = key[len(prefix) :] if key.startswith(prefix) else key
    parts = set(key.split("_"))
    for needle, phrase in table:
        if needle == key or needle in parts or ("_" in needle and needle in key):
            return phrase
    for needle, phrase in table:
        if len(needle) > 3 and needle in key:
            return phrase
    return None


def category_phrase(category: str) -> CategoryPhrase:
    """The phrases for a co-opting category; unknown categories get generic wording."""
    found = COOPTING_PHRASES.get((category or "").lower())
    if found:
        return found
    words = (category or "co-opting language").replace("_", " ")
    return CategoryPhrase(words, words, words, words)


def extension_purpose(category: str) -> str:
    """``extension_climate`` -> ``mitigate harm from climate change``."""
    found = _lookup(category or "", EXTENSION_PURPOSES, "extension_")
    if found:
        return found
    rest = (category or "").lower().removeprefix("extension_").replace("_", " ").strip()
    return f"address {rest}" if rest else "address harms outside criminalization and marginalization"


def aligned_principle(category: str) -> str | None:
    """``aligned_agency`` -> ``agency and self-determination`` (``None`` if unknown)."""
    return _lookup(category or "", ALIGNED_PRINCIPLES, "aligned_")


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


# --------------------------------------------------------------------------- annotate


def _span_text(text: str, span: Mapping[str, Any]) -> str:
    """The span's text from the document (verbatim), falling back to ``span['text']``."""
    start, end = span.get("start"), span.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return text[start:end]
    return _clean(span.get("text"))


def hr_phrase(text: str, mention: Mapping[str, Any]) -> tuple[str, bool]:
    """The mention expanded to its noun phrase, verbatim from ``text``.

    ``harm reduction`` followed by ``committee`` gives ``harm reduction committee``.

    Returns:
        The phrase and whether it ends in a countable head (so it takes "a"/"an").
    """
    phrase = _span_text(text, mention)
    if not phrase:
        return "harm reduction", False
    end = mention.get("end")
    last = (_WORD.findall(phrase) or [""])[-1].lower()
    if last in HR_HEADS:
        return phrase, True
    if isinstance(end, int) and text[mention.get("start", 0) : end] == phrase:
        m = re.match(r"([ -])([A-Za-z]+)", text[end : end + 40])
        if m and m.group(2).lower() in HR_HEADS:
            return text[mention["start"] : end + m.end()], True
    return phrase, False


_SINGULAR_S = ("lens", "process", "focus", "basis", "analysis", "campus")


def _a_quoted(phrase: str, countable: bool) -> str:
    plural = phrase.lower().endswith("s") and not phrase.lower().endswith(_SINGULAR_S)
    if countable and not plural:
        return f'{_article(phrase)} "{phrase}"'
    return f'"{phrase}"'


def _signal_noun(text: str, signal: Mapping[str, Any]) -> str:
    """The signal as a noun phrase: its own text when it is one, else the category's."""
    own = _span_text(text, signal)
    words = _WORD.findall(own)
    if words and words[-1].lower() in _NP_HEADS and words[0].lower() not in _VERB_STARTS:
        lead = own if own[:1].isupper() and own[:2].isupper() else own[:1].lower() + own[1:]
        if words[-1].lower().endswith("s") or words[0].lower() in {"the", "a", "an", "this", "its"}:
            return lead
        return f"{_article(lead)} {lead}"
    return category_phrase(str(signal.get("category") or "")).noun


def quotable_clause(text: str, signal: Mapping[str, Any]) -> str | None:
    """The verbatim clause around a verb-phrase signal, or ``None``.

    "support to help people leave sex work": the signal ``leave sex work`` is a verb
    phrase; walking left over its objects ("people"), a helper verb ("help"), "to" and
    the head noun ("support") gives the phrase the seed quotes.
    """
    start, end = signal.get("start"), signal.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return None
    first = (_WORD.findall(text[start:end]) or [""])[0].lower()
    if first not in _VERB_STARTS:
        return None
    sent_start = signal.get("sent_start")
    floor = sent_start if isinstance(sent_start, int) and 0 <= sent_start <= start else max(0, start - 200)
    left = text[floor:start]
    # Words to the left, nearest first, stopping at punctuation that ends a clause.
    tokens = list(re.finditer(r"[\w'’-]+|[^\w\s]", left))[::-1]
    objects = 0
    begin: int | None = None
    i = 0
    while i < len(tokens) and objects < 3 and tokens[i].group().lower() in _OBJECTS:
        objects += 1
        i += 1
    if i < len(tokens) and tokens[i].group().lower() in _HELPERS:
        helper = tokens[i]
        i += 1
        if helper.group().lower().endswith("ing"):
            begin = helper.start()
        if i < len(tokens) and tokens[i].group().lower() == "to":
            i += 1
            if i < len(tokens):
                head = tokens[i].group()
                if head.isalpha() and head.lower() not in _NOT_HEADS:
                    begin = tokens[i].start()
    if begin is None:
        return None
    return text[floor + begin : end]


def _usable(span: Mapping[str, Any] | None) -> bool:
    return bool(span) and not span.get("negated") and not span.get("critical")


#: Categories that describe people rather than what a programme does.
_DESCRIPTIVE_CATEGORIES = frozenset({"victim_deviance", "trafficking_exploitation"})


def best_link(
    result: Mapping[str, Any], *, kind: str = "coopting"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """The strongest link between a usable HR mention and a usable signal of ``kind``.

    Negated or critical spans never count. Ties go to a signal naming what a programme
    does (exit, rescue, policing, conditions...) over one that only describes people
    (victims, trafficking), as the seed's endnotes name the programme; then to a signal
    inside the label's evidence, then to a mention with a
    quotable head ("harm reduction committee"), then to the earliest link.

    Returns:
        ``(link, mention, signal)`` or ``None``.
    """
    mentions = {m.get("id"): m for m in result.get("hr_mentions") or []}
    signals = {s.get("id"): s for s in result.get("signals") or []}
    text = result.get("text") or ""
    # A document has a few mentions and evidence sentences but dozens of links: the evidence
    # ranges are read once, each mention's phrase is looked at once (the same answers as an
    # evidence test and hr_phrase per link), and a link whose strength and category already
    # rank it below the best so far is passed over.
    ranges: list[tuple[int, int]] | None = None
    countable: dict[int, bool] = {}
    best: tuple[tuple[int, int, int, int, int], tuple[Any, Any, Any]] | None = None
    for order, link in enumerate(result.get("links") or []):
        m, s = mentions.get(link.get("mention")), signals.get(link.get("signal"))
        if not (_usable(m) and _usable(s)) or (s.get("kind") or "coopting") != kind:
            continue
        if id(m) not in countable:
            countable[id(m)] = hr_phrase(text, m)[1]
        rank = _RANK.get(link.get("strength"), len(STRENGTHS))
        descriptive = 1 if s.get("category") in _DESCRIPTIVE_CATEGORIES else 0
        if best is not None and (rank, descriptive) > best[0][:2]:
            continue  # the rest of the key cannot make it smaller
        pos = s.get("start")
        in_evidence = False
        if isinstance(pos, int):
            if ranges is None:
                ranges = [
                    (ev["start"], ev["end"])
                    for ev in result.get("evidence") or []
                    if isinstance(ev.get("start"), int) and isinstance(ev.get("end"), int)
                ]
            in_evidence = any(start <= pos < end for start, end in ranges)
        key = (rank, descriptive, 0 if in_evidence else 1, 0 if countable[id(m)] else 1, order)
        if best is None or key < best[0]:
            best = (key, (link, m, s))
    return best[1] if best else None


def dominant_category(result: Mapping[str, Any], *, kind: str | None = None) -> str:
    """The document's most frequent signal category (of ``kind``), ties to the first seen.

    For ``coopted``/``copresent``/``extension`` documents the category of the best link
    wins, so the endnote groups by what the parenthetical talks about.
    """
    label = result.get("label")
    if kind is None:
        kind = {"extension": "extension", "aligned": "aligned"}.get(str(label), "coopting")
    if label in ("coopted", "copresent", "extension"):
        found = best_link(result, kind=kind)
        if found:
            return str(found[2].get("category") or "")
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, s in enumerate(result.get("signals") or []):
        if (s.get("kind") or "coopting") != kind:
            continue
        if label in ("coopted", "copresent", "aligned", "extension") and not _usable(s):
            continue
        cat = str(s.get("category") or "")
        counts[cat] += 1
        first.setdefault(cat, i)
    if not counts:
        return ""
    return min(counts, key=lambda c: (-counts[c], first[c]))


def _first_hr(result: Mapping[str, Any]) -> str:
    text = result.get("text") or ""
    mentions = [m for m in result.get("hr_mentions") or [] if _usable(m)] or list(
        result.get("hr_mentions") or []
    )
    if not mentions:
        return '"harm reduction"'
    best = max(mentions, key=lambda m: hr_phrase(text, m)[1])
    return _a_quoted(*hr_phrase(text, best))


def annotate(result: Mapping[str, Any], *, lang: Lang | Literal["document"] = "en") -> str:
    """The endnote parenthetical for one analysed document (without the parentheses).

    The wording follows the label and the strength of the best link (DOMAIN.md 4):

    - direct: ``frames an exit program as part of a harm reduction approach``, or
      ``describes "<verbatim clause>" as a harm reduction approach`` when the signal is
      a verb phrase inside a quotable clause;
    - sentence/nearby: ``links an exit program to a "harm reduction approach"``;
    - document: ``emphasizes giving sex workers the option to exit, while also
      mentioning a "harm reduction committee"``;
    - extension: ``develops a "harm reduction strategy" to mitigate harm from climate change``;
    - critical: ``criticizes exit programs presented as harm reduction``;
    - opposed: ``rejects harm reduction in favour of abstinence and exiting``;
    - aligned: ``uses harm reduction language consistent with agency and self-determination``.

    Quoted phrases are verbatim from ``result["text"]``.

    Args:
        result: a documents.jsonl dict (``label``, ``text``, ``hr_mentions``,
            ``signals``, ``links``, ``evidence``).
        lang: ``en`` (default: the report's language), ``fr`` (French wording, see
            :mod:`hrdiscourse.reports.annotate_fr`) or ``document`` (the document's
            ``language``: French documents get French parentheticals).

    Returns:
        The parenthetical, ``""`` for label ``none``.
    """
    if (result.get("language") if lang == "document" else lang) == "fr":
        from .annotate_fr import annotate_fr

        return annotate_fr(result)
    label = str(result.get("label") or "none")
    text = result.get("text") or ""
    if label == "none":
        return ""
    if label in ("coopted", "copresent"):
        found = best_link(result, kind="coopting")
        if not found:
            cat = dominant_category(result, kind="coopting")
            emphasis = category_phrase(cat).emphasis if cat else "co-opting language"
            return f"emphasizes {emphasis}, while also mentioning {_first_hr(result)}"
        link, mention, signal = found
        strength = link.get("strength")
        phrase, countable = hr_phrase(text, mention)
        cat = category_phrase(str(signal.get("category") or ""))
        if strength == "direct":
            clause = quotable_clause(text, signal)
            if clause:
                return f'describes "{clause}" as a harm reduction approach'
            return f"frames {_signal_noun(text, signal)} as part of a harm reduction approach"
        if strength in ("sentence", "nearby"):
            return f"links {_signal_noun(text, signal)} to {_a_quoted(phrase, countable)}"
        return f"emphasizes {cat.emphasis}, while also mentioning {_a_quoted(phrase, countable)}"
    if label == "extension":
        found = best_link(result, kind="extension")
        if found:
            _, mention, signal = found
            hr = _a_quoted(*hr_phrase(text, mention))
            cat = str(signal.get("category") or "")
        else:
            hr = _first_hr(result)
            cat = dominant_category(result, kind="extension")
        return f"develops {hr} to {extension_purpose(cat)}"
    if label == "critical":
        cat = dominant_category(result, kind="coopting")
        if not cat:
            return "criticizes the co-optation of harm reduction"
        return f"criticizes {category_phrase(cat).plural} presented as harm reduction"
    if label == "opposed":
        cat = dominant_category(result, kind="coopting")
        return f"rejects harm reduction in favour of {category_phrase(cat).favour if cat else 'abstinence'}"
    if label == "aligned":
        principle = aligned_principle(dominant_category(result, kind="aligned"))
        if principle:
            return f"uses harm reduction language consistent with {principle}"
        return "uses harm reduction language without co-opting signals"
    return ""


# --------------------------------------------------------------------------- endnotes


def roman(n: int) -> str:
    """Lowercase Roman numeral: ``roman(13) == "xiii"``, ``roman(22) == "xxii"``."""
    if not 0 < n < 4000:
        raise ValueError(f"endnote number {n} is outside 1..3999; Roman numerals cannot write it.")
    out = []
    for value, sym in (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ):
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


#: Labels that share a note: a co-present exit story sits with the co-opted ones (seed xiii).
_FAMILY = {"coopted": "coopting", "copresent": "coopting"}


@dataclass(frozen=True)
class EndnoteItem:
    """One cited document in an endnote (no document text: safe to keep for a corpus)."""

    doc_id: str
    label: str
    category: str
    strength: str
    citation: str
    citation_md: str
    annotation: str
    parts: Mapping[str, str | None] = field(default_factory=dict, compare=False)

    @property
    def pattern(self) -> tuple[str, str]:
        """The grouping key: label family and dominant signal category."""
        return (_FAMILY.get(self.label, self.label), self.category)

    @property
    def text(self) -> str:
        """The item as plain text: citation and parenthetical."""
        return " ".join(x for x in (self.citation, f"({self.annotation})" if self.annotation else "") if x)


@dataclass
class Endnote:
    """One numbered note: "See e.g." and its items joined by "; "."""

    number: int
    pattern: tuple[str, str]
    items: list[EndnoteItem] = field(default_factory=list)

    @property
    def numeral(self) -> str:
        return roman(self.number)

    @property
    def text(self) -> str:
        """The note body as plain text (without the numeral)."""
        return "See e.g. " + "; ".join(item.text for item in self.items) + "."


def endnote_item(result: Mapping[str, Any], *, lang: Lang | None = None) -> EndnoteItem:
    """The endnote item of one analysed document.

    Args:
        result: a documents.jsonl dict.
        lang: citation language; default: the document's ``language`` (``fr`` or ``en``).
    """
    label = str(result.get("label") or "none")
    lang = lang or ("fr" if result.get("language") == "fr" else "en")
    found = best_link(result, kind="extension" if label == "extension" else "coopting")
    strength = str(found[0].get("strength")) if found and label in ("coopted", "copresent") else ""
    doc_id = str(result.get("doc_id") or "")
    citation = format_citation(result, lang=lang)
    citation_md = _citation_markdown(result, lang=lang)
    if not citation:
        # Nothing to cite: name the document so the note still points somewhere.
        citation, citation_md = f"[{doc_id}]", f"\\[{_md(doc_id)}\\]"
    return EndnoteItem(
        doc_id=doc_id,
        label=label,
        category=dominant_category(result),
        strength=strength,
        citation=citation,
        citation_md=citation_md,
        annotation=annotate(result),
        parts=citation_parts(result, lang=lang),
    )


def group_endnotes(items: Iterable[EndnoteItem], *, start: int = 1) -> list[Endnote]:
    """Group items by pattern, in order of first appearance, numbered from ``start``.

    Inside a note, items keep their input order within each link strength, strongest
    first (direct, sentence, nearby, document), as the seed's note xiii does.
    """
    groups: dict[tuple[str, str], list[EndnoteItem]] = {}
    for item in items:
        groups.setdefault(item.pattern, []).append(item)
    notes = []
    for i, (pattern, members) in enumerate(groups.items()):
        members = sorted(members, key=lambda it: _RANK.get(it.strength, len(STRENGTHS)))
        notes.append(Endnote(number=start + i, pattern=pattern, items=members))
    return notes


def endnotes(results: Iterable[Mapping[str, Any]], *, start: int = 1) -> list[Endnote]:
    """Endnotes for the documents with harm-reduction framing (label other than ``none``).

    Documents are grouped by pattern (label family, dominant signal category): one note
    per group, "See e.g." and items joined by "; ", numbered in lowercase Roman numerals
    from ``start``. ``coopted`` and ``copresent`` share a family, as in the seed's
    note xiii.

    Args:
        results: documents.jsonl dicts.
        start: number of the first note (13 gives ``xiii``).

    Returns:
        The notes, in order of first appearance of their pattern.
    """
    return group_endnotes(
        (endnote_item(r) for r in results if (r.get("label") or "none") != "none"), start=start
    )


def endnote_markdown(note: Endnote) -> str:
    """One note as a line of the seed's Markdown endnote list."""
    items = []
    for item in note.items:
        part = item.citation_md
        if item.annotation:
            part += f" ({_md(smart_quotes(item.annotation))})"
        items.append(part)
    return f"- {note.numeral}. See e.g. " + "; ".join(items) + "."


def to_markdown(notes: Iterable[Endnote]) -> str:
    """The notes as the seed's Markdown endnote list, one ``- xiii. See e.g. ...`` line each."""
    lines = [endnote_markdown(n) for n in notes]
    return "\n".join(lines) + ("\n" if lines else "")
