"""French endnote parentheticals: :func:`hrdiscourse.reports.citations.annotate` in French.

The wording mirrors the English one (DOMAIN.md section 4, seed endnote xiii), with the
document's own harm-reduction term ("réduction des méfaits" in Québec, "réduction des
risques" in France) and the French noun phrase around it ("approche de réduction des
méfaits": in French the head noun comes first, so the phrase is expanded to the left).

- direct: ``présente un programme de sortie comme faisant partie d'une approche de réduction
  des méfaits``;
- sentence/nearby: ``associe un programme de sortie à une « approche de réduction des méfaits »``;
- document: ``met l'accent sur l'option de quitter le travail du sexe, tout en mentionnant un
  « comité de réduction des méfaits »``;
- extension: ``propose une « stratégie de réduction des risques » pour atténuer les méfaits des
  changements climatiques``;
- critical: ``critique la présentation de programmes de sortie comme de la réduction des méfaits``;
- opposed: ``rejette la réduction des méfaits au profit de l'abstinence et de la sortie``;
- aligned: ``emploie le langage de la réduction des méfaits en accord avec l'autonomie et
  l'autodétermination``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .citations import (
    ALIGNED_PRINCIPLES,
    EXTENSION_PURPOSES,
    CategoryPhrase,
    _lookup,
    _span_text,
    _usable,
    best_link,
    dominant_category,
)

__all__ = ["COOPTING_PHRASES_FR", "annotate_fr", "hr_phrase_fr", "hr_term_fr"]

#: Co-opting categories (DOMAIN.md section 1) in French: noun, plural, emphasis, favour.
COOPTING_PHRASES_FR: dict[str, CategoryPhrase] = {
    "exit_abstinence": CategoryPhrase(
        "un programme de sortie",
        "programmes de sortie",
        "l'option de quitter le travail du sexe",
        "l'abstinence et la sortie",
    ),
    "relapse_pathologizing": CategoryPhrase(
        "la réadaptation",
        "programmes de réadaptation",
        "le rétablissement et le risque de rechute",
        "le rétablissement",
    ),
    "rescue_saving": CategoryPhrase(
        "un programme de sauvetage",
        "programmes de sauvetage",
        "le sauvetage des femmes du milieu",
        "le sauvetage",
    ),
    "trafficking_exploitation": CategoryPhrase(
        "un programme de lutte contre la traite",
        "programmes de lutte contre la traite",
        "la lutte contre la traite et l'exploitation sexuelle",
        "la lutte contre la traite",
    ),
    "victim_deviance": CategoryPhrase(
        "le soutien aux femmes à risque",
        "programmes qui traitent les travailleuses du sexe en victimes",
        "la représentation des travailleuses du sexe en victimes",
        "la protection des victimes",
    ),
    "law_enforcement": CategoryPhrase(
        "l'intervention policière",
        "programmes menés par la police",
        "le rôle de la police et des forces de l'ordre",
        "la répression policière",
    ),
    "criminalization_prohibition": CategoryPhrase(
        "la prohibition pénale",
        "interdictions pénales",
        "la criminalisation du travail du sexe ou de la consommation",
        "la criminalisation",
    ),
    "conditional_support": CategoryPhrase(
        "un soutien conditionnel",
        "programmes de soutien conditionnel",
        "les conditions imposées au soutien",
        "le soutien conditionnel",
    ),
    "surveillance_profiling": CategoryPhrase(
        "la surveillance et le profilage",
        "mesures de surveillance et de profilage",
        "le repérage et le signalement des personnes",
        "la surveillance",
    ),
    "behaviour_control": CategoryPhrase(
        "des exigences de changement de comportement",
        "programmes de contrôle des comportements",
        "le changement des comportements et des choix",
        "le changement de comportement",
    ),
    "nuisance_public_order": CategoryPhrase(
        "des mesures d'ordre public",
        "mesures d'ordre public",
        "l'ordre public et la sécurité du voisinage",
        "l'ordre public",
    ),
    "moral_balancing": CategoryPhrase(
        "la prise en compte des préoccupations du voisinage",
        "appels à concilier les préoccupations du voisinage",
        "l'équilibre avec les préoccupations du voisinage",
        "les préoccupations du voisinage",
    ),
    "eradication_ideal": CategoryPhrase(
        "l'objectif de mettre fin au travail du sexe ou à la consommation",
        "objectifs d'éradication",
        "la fin du travail du sexe ou de la consommation",
        "l'éradication",
    ),
}

#: English purpose (citations.EXTENSION_PURPOSES) -> French.
EXTENSION_PURPOSES_FR: dict[str, str] = {
    "address alcohol use and gambling": "encadrer l'alcool et les jeux de hasard et d'argent",
    "mitigate harm from climate change": "atténuer les méfaits des changements climatiques",
    "respond to wildlife disease": "lutter contre les maladies de la faune",
    "address doping in sport": "lutter contre le dopage dans le sport",
    "address diet and nutrition": "encadrer l'alimentation",
    "promote reduced-risk tobacco and vaping products": (
        "promouvoir des produits du tabac et de vapotage à risque réduit"
    ),
    "address alcohol use": "encadrer la consommation d'alcool",
    "address gambling": "encadrer les jeux de hasard et d'argent",
    "manage financial risk": "gérer le risque financier",
    "manage cybersecurity risk": "gérer les risques en cybersécurité",
    "manage risks of artificial intelligence": "gérer les risques de l'intelligence artificielle",
    "mitigate harm from social media": "atténuer les méfaits des réseaux sociaux",
    "manage technology risks": "gérer les risques technologiques",
    "guide parenting": "guider les parents",
}

#: English principle (citations.ALIGNED_PRINCIPLES) -> French.
ALIGNED_PRINCIPLES_FR: dict[str, str] = {
    "agency and self-determination": "l'autonomie et l'autodétermination",
    "human and labour rights": "les droits humains et les droits du travail",
    "full decriminalization": "la décriminalisation complète",
    "programs led by and for the affected community": "des programmes par et pour les personnes concernées",
    "lived experience and meaningful participation": "l'expérience vécue et la participation réelle",
    "non-judgement and stigma reduction": "le non-jugement et la lutte contre la stigmatisation",
    "attention to structural factors": "l'attention aux facteurs structurels",
    "unconditional, low-barrier support": "un soutien inconditionnel et à bas seuil",
    "supports identified by the person": "des soutiens choisis par la personne",
    "pragmatism and meeting people in the here and now": "le pragmatisme et les besoins d'ici et maintenant",
}

#: Head nouns of "<tête> de réduction des méfaits" (the head comes before the term).
HR_HEADS_FR: frozenset[str] = frozenset(
    """approche approches stratégie stratégies comité comités programme programmes mesure mesures
    politique politiques service services matériel équipe équipes site sites trousse trousses plan
    plans cadre philosophie principes principe logique perspective outil outils initiative
    initiatives projet projets centre centres organisme organismes intervention interventions
    intervenants intervenantes pratique pratiques modèle volet orientation""".split()
)
_DETS = {
    "un": "un",
    "une": "une",
    "le": "le",
    "la": "la",
    "l'": "l'",
    "l’": "l'",
    "les": "les",
    "des": "des",
    "d'un": "un",
    "d'une": "une",
    "d’un": "un",
    "d’une": "une",
    "du": "le",
    "au": "le",
    "à": "",
}
_LEFT = re.compile(
    r"(?:(?P<det>\b(?:d['’]une?|une?|la|le|les|des|du|au|l['’]))\s*)?"
    r"(?P<head>[\wÀ-ÿ]+)\s+(?:de|d['’])\s*(?:la\s+|l['’])?$",
    re.I,
)


def hr_term_fr(text: str, mention: Mapping[str, Any]) -> str:
    """The mention's base term for the fixed phrases: ``réduction des risques`` or ``des méfaits``."""
    own = _span_text(text, mention).lower()
    if "risque" in own or own.startswith("rdr"):
        return "réduction des risques"
    if "dommage" in own:
        return "réduction des dommages"
    return "réduction des méfaits"


def hr_phrase_fr(text: str, mention: Mapping[str, Any]) -> tuple[str, str]:
    """The mention expanded leftwards to its head noun, verbatim, and the determiner to put before it.

    ``... une approche de réduction des méfaits`` gives ``("approche de réduction des méfaits", "une")``.
    """
    phrase = _span_text(text, mention) or "réduction des méfaits"
    start = mention.get("start")
    if isinstance(start, int) and 0 <= start <= len(text):
        m = _LEFT.search(text[max(0, start - 60) : start])
        if m and m.group("head").lower() in HR_HEADS_FR:
            begin = start - (len(m.group(0)) - (m.start("head") - m.start(0)))
            det = _DETS.get((m.group("det") or "").lower(), "")
            return text[begin : mention["end"]], det
    # The bare term: "réduction des méfaits/risques" and RdR are feminine.
    return phrase, "la"


def _quoted(phrase: str, det: str) -> str:
    if det == "l'":
        return f"l'« {phrase} »"
    return f"{det} « {phrase} »".strip()


def _first_hr(result: Mapping[str, Any]) -> str:
    text = result.get("text") or ""
    mentions = [m for m in result.get("hr_mentions") or [] if _usable(m)] or list(
        result.get("hr_mentions") or []
    )
    if not mentions:
        return "« réduction des méfaits »"
    best = max(mentions, key=lambda m: bool(hr_phrase_fr(text, m)[1]))
    return _quoted(*hr_phrase_fr(text, best))


def _phrase(category: str) -> CategoryPhrase:
    found = COOPTING_PHRASES_FR.get((category or "").lower())
    if found:
        return found
    return CategoryPhrase(
        "un langage de cooptation", "langages de cooptation", "un langage de cooptation", "la cooptation"
    )


def _de(phrase: str) -> str:
    """``de`` + phrase with French contraction (de le -> du, de les -> des)."""
    if phrase.startswith("le "):
        return "du " + phrase[3:]
    if phrase.startswith("les "):
        return "des " + phrase[4:]
    if phrase.startswith(("du ", "des ")):
        return phrase
    if phrase[:1].lower() in "aeiouyhéèâî":
        return "d'" + phrase
    return "de " + phrase


def annotate_fr(result: Mapping[str, Any]) -> str:
    """The French endnote parenthetical of one analysed document (without the parentheses).

    Args:
        result: a documents.jsonl dict (``label``, ``text``, ``hr_mentions``, ``signals``,
            ``links``, ``evidence``).

    Returns:
        The parenthetical, ``""`` for label ``none``.
    """
    label = str(result.get("label") or "none")
    text = result.get("text") or ""
    if label == "none":
        return ""
    mentions = [m for m in result.get("hr_mentions") or []]
    term = hr_term_fr(text, mentions[0]) if mentions else "réduction des méfaits"
    if label in ("coopted", "copresent"):
        found = best_link(result, kind="coopting")
        if not found:
            cat = dominant_category(result, kind="coopting")
            emphasis = _phrase(cat).emphasis if cat else "un langage de cooptation"
            return f"met l'accent sur {emphasis}, tout en mentionnant {_first_hr(result)}"
        link, mention, signal = found
        term = hr_term_fr(text, mention)
        phrase, det = hr_phrase_fr(text, mention)
        cat = _phrase(str(signal.get("category") or ""))
        strength = link.get("strength")
        if strength == "direct":
            return f"présente {cat.noun} comme faisant partie d'une approche de {term}"
        if strength in ("sentence", "nearby"):
            target = _quoted(phrase, det)
            if target.startswith("le "):
                joined = "au " + target[3:]
            elif target.startswith("les "):
                joined = "aux " + target[4:]
            else:
                joined = f"à {target}"
            return f"associe {cat.noun} {joined}"
        return f"met l'accent sur {cat.emphasis}, tout en mentionnant {_quoted(phrase, det)}"
    if label == "extension":
        found = best_link(result, kind="extension")
        if found:
            _, mention, signal = found
            hr = _quoted(*hr_phrase_fr(text, mention))
            category = str(signal.get("category") or "")
        else:
            hr = _first_hr(result)
            category = dominant_category(result, kind="extension")
        english = _lookup(category or "", EXTENSION_PURPOSES, "extension_") or ""
        purpose = EXTENSION_PURPOSES_FR.get(english, "traiter des méfaits hors de la criminalisation")
        return f"propose {hr} pour {purpose}"
    if label == "critical":
        cat = dominant_category(result, kind="coopting")
        if not cat:
            return f"critique la cooptation de la {term}"
        return f"critique la présentation {_de(_phrase(cat).plural)} comme de la {term}"
    if label == "opposed":
        cat = dominant_category(result, kind="coopting")
        favour = _phrase(cat).favour if cat else "l'abstinence"
        return f"rejette la {term} au profit {_de(favour)}"
    if label == "aligned":
        english = _lookup(dominant_category(result, kind="aligned") or "", ALIGNED_PRINCIPLES, "aligned_")
        principle = ALIGNED_PRINCIPLES_FR.get(english or "")
        if principle:
            return f"emploie le langage de la {term} en accord avec {principle}"
        return f"emploie le langage de la {term} sans signal de cooptation"
    return ""
