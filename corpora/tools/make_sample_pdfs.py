"""Generate the three PDFs of the bundled demo corpus, ``corpora/sample/pdf/``.

Every text below is a *constructed illustration* written for hrdiscourse; none is a
real funding call, release or brief, and no third-party text is copied. The intended
labels (see ``corpora/sample/README.md``) follow the definitions of
``shared/DOMAIN.md`` section 3, which come from Tara Santini, Alana Klein, Stella,
l'amie de Maimie & Butterfly Asian and Migrant Sex Worker Support Network, "Sex Work
and Harm Reduction Discourse: A Reflection" (2020).

Run from the repository root (needs reportlab, a dev dependency)::

    .venv/bin/python corpora/tools/make_sample_pdfs.py [--out corpora/sample/pdf]

Output is byte-for-byte reproducible: reportlab's invariant mode fixes the document
ID, and ``SOURCE_DATE_EPOCH`` is set per document so the PDF CreationDate/ModDate is
the document's own publication date (not the time the script ran).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import os
from pathlib import Path

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

NOTICE = "Constructed illustration written for hrdiscourse; not a real document."

# Each document: metadata, then a list of blocks. A block is ("h", text) for a heading,
# ("p", text) for a paragraph, ("li", text) for a bullet item, ("break", "") for a page break.
DOCUMENTS: list[dict] = [
    {
        "file": "safer-pathways-fund-2024-call.pdf",
        "label": "coopted",
        "title": "Safer Pathways Fund 2024-2025: Call for Proposals",
        "author": "Northbrook Regional Government, Community Safety Secretariat",
        "date": "2024-01-15",
        "outlet": "Northbrook Regional Government",
        "url": "https://example.org/northbrook/funding/safer-pathways-2024",
        "pagesize": LETTER,
        "blocks": [
            ("p", "Northbrook Regional Government | Community Safety Secretariat"),
            ("title", "Safer Pathways Fund 2024-2025: Call for Proposals"),
            ("p", "Issued 15 January 2024. Deadline 29 March 2024."),
            ("h", "1. Purpose"),
            (
                "p",
                (
                    "The Safer Pathways Fund supports community organizations that help people "
                    "affected by sexual exploitation and human trafficking in the region. The Fund "
                    "takes a harm reduction approach to exiting: projects should reduce the harms of "
                    "the sex trade for participants while helping them prepare to leave it."
                ),
            ),
            ("h", "2. Funding streams"),
            ("p", "The Community Safety Secretariat will fund projects in three streams."),
            (
                "li",
                (
                    "<b>Stream A: Harm reduction outreach.</b> Outreach that provides harm reduction "
                    "supplies, such as condoms and naloxone, as a first contact with women at risk, "
                    "with the goal of building trust and encouraging them to transition out of the "
                    "sex trade."
                ),
            ),
            (
                "li",
                (
                    "<b>Stream B: Exit and transition supports.</b> Case management, transitional "
                    "housing, addiction recovery and employment training for individuals who have "
                    "made a commitment to exit."
                ),
            ),
            (
                "li",
                (
                    "<b>Stream C: Prevention and awareness.</b> Training for hotel, transit and "
                    "rideshare staff to recognize indicators of trafficking and report concerns to "
                    "police, and campaigns to end demand for paid sex."
                ),
            ),
            ("h", "3. Expected outcomes"),
            (
                "p",
                (
                    "Successful projects will show measurable progress toward the Fund's long-term "
                    "goal of ending sexual exploitation in the region. Outcomes reported to the "
                    "Secretariat include:"
                ),
            ),
            ("li", "number of individuals who have exited the sex trade and remain out at 12 months;"),
            ("li", "number of participants enrolled in recovery or treatment programs;"),
            ("li", "number of referrals to police and victim services;"),
            ("li", "number of frontline staff trained to spot the signs of trafficking."),
            (
                "p",
                (
                    "Projects in every stream should describe how their harm reduction activities "
                    "lead participants toward exiting and recovery."
                ),
            ),
            ("break", ""),
            ("h", "4. Eligibility"),
            (
                "p",
                (
                    "Applicants must be registered non-profit organizations that have operated in "
                    "the region for at least two years. Applicants must demonstrate a formal "
                    "partnership with the regional police service or its victim services unit. "
                    "Projects under Stream B are eligible only if participants agree to an "
                    "individual case plan that includes a goal of leaving the sex trade. "
                    "Organizations that promote the sex trade as a legitimate occupation are not "
                    "eligible."
                ),
            ),
            ("h", "5. Funding available"),
            (
                "p",
                (
                    "Up to $150,000 per project per year, for up to two years. The total budget for "
                    "this intake is $2.1 million. Harm reduction outreach projects under Stream A "
                    "may request up to $60,000 a year and must include a referral pathway to exit "
                    "services."
                ),
            ),
            ("h", "6. How to apply"),
            (
                "p",
                (
                    "Submit the application form, a budget, a logic model and two letters of "
                    "support, one of them from a police or victim services partner, by 29 March "
                    "2024. Applications will be reviewed by a panel that includes representatives of "
                    "the Secretariat, the regional police service and survivor advisors. Applicants "
                    "will be told of decisions in June 2024."
                ),
            ),
            ("h", "7. Reporting"),
            (
                "p",
                (
                    "Funded projects will submit quarterly reports on the outcomes listed in section "
                    "3 and a final report. The Secretariat may conduct site visits and ask to review "
                    "anonymized case files."
                ),
            ),
            ("h", "8. Contact"),
            ("p", "Community Safety Secretariat, Safer Pathways Fund. Email: saferpathways@example.org."),
        ],
    },
    {
        "file": "lakeland-drug-strategy-release.pdf",
        "label": "none",
        "title": "County launches three-year plan to tackle drug supply and support recovery",
        "author": "Lakeland County Council Press Office",
        "date": "2022-11-03",
        "outlet": "Lakeland County Council",
        "url": "https://example.org/lakeland-county/news/drug-strategy-2022",
        "pagesize": A4,
        "blocks": [
            ("p", "Lakeland County Council | Press release | 3 November 2022"),
            ("title", "County launches three-year plan to tackle drug supply and support recovery"),
            (
                "p",
                (
                    "Lakeland County Council and the county's police force today launched a "
                    "three-year plan to tackle drug supply and help more residents into recovery."
                ),
            ),
            (
                "p",
                (
                    "The plan commits £3.4 million to three priorities: disrupting supply, expanding "
                    "treatment places and building what the council calls a recovery community."
                ),
            ),
            (
                "p",
                (
                    "Police will add a dedicated team to target dealers running county lines into "
                    "market towns, and will increase stop and search in areas with repeated drug "
                    "complaints. Officers will work with housing providers to close properties used "
                    "for dealing."
                ),
            ),
            (
                "p",
                (
                    "The council will fund 40 more residential rehabilitation places and a new "
                    "recovery café in Kendalbridge, run by volunteers who are themselves in "
                    "recovery. People arrested for possession will be offered a place on a drug "
                    "awareness course as an alternative to prosecution."
                ),
            ),
            (
                "p",
                (
                    "“Our vision is a drug-free Lakeland where every young person grows up free from "
                    "the shadow of addiction,” said the council leader. “That means being tough on "
                    "the gangs and giving people a real chance at recovery.”"
                ),
            ),
            (
                "p",
                (
                    "The plan includes a schools programme to warn pupils about the dangers of drugs "
                    "and vaping, and a campaign to encourage residents to report suspected dealing."
                ),
            ),
            (
                "p",
                (
                    "Progress will be reported to the county's community safety partnership every "
                    "six months. The full plan is available on the council website."
                ),
            ),
            ("h", "Notes to editors"),
            ("li", "The plan runs from April 2023 to March 2026."),
            ("li", "Media enquiries: press.office@example.org."),
        ],
    },
    {
        "file": "exit-requirements-policy-brief.pdf",
        "label": "critical",
        "title": "Policy Brief No. 4: Exit Requirements Are Not Harm Reduction",
        "author": "Bay Area Sex Worker Health Alliance",
        "date": "2021-06-01",
        "outlet": "Bay Area Sex Worker Health Alliance",
        "url": "https://example.org/baswha/briefs/exit-requirements",
        "pagesize": LETTER,
        "blocks": [
            ("p", "Bay Area Sex Worker Health Alliance | Policy Brief No. 4 | June 2021"),
            ("title", "Exit Requirements Are Not Harm Reduction"),
            ("h", "Summary"),
            (
                "p",
                (
                    "Several city and state funding streams now describe programs for people in the "
                    "sex trade as harm reduction while requiring participants to commit to leaving "
                    "sex work. This brief explains why exit requirements are incompatible with harm "
                    "reduction and what funders can do instead."
                ),
            ),
            ("h", "The problem"),
            (
                "p",
                (
                    "In the last two years, at least three grant programs in our region have used "
                    "the words “harm reduction” for services that are available only to people who "
                    "agree to an exit plan, who accept referrals to law enforcement, or who are "
                    "identified as trafficking victims. One program counts a participant's return to "
                    "sex work as a “relapse”. These conditions run counter to harm reduction. They "
                    "impose a pre-determined goal, treat sex workers as victims to be rescued, and "
                    "push away the people who most need support."
                ),
            ),
            (
                "p",
                (
                    "Harm reduction grew out of communities of people who use drugs who rejected "
                    "prohibition and coercion. Its core is respect for people's agency, leadership "
                    "by affected communities, non-judgement and attention to structural harms such "
                    "as poverty, racism, transphobia and immigration enforcement. A program that "
                    "makes help conditional on quitting sex work is using the language of harm "
                    "reduction to promote abstinence. That is co-optation, and it empties the term "
                    "of meaning."
                ),
            ),
            ("h", "What we hear from our members"),
            (
                "p",
                (
                    "Sex workers tell us they want help with housing, health care, safer working "
                    "conditions and legal support, and that they stay away from services that "
                    "require them to leave work or talk to police."
                ),
            ),
            ("h", "Recommendations for funders"),
            (
                "li",
                (
                    "Do not fund programs under a harm reduction heading if they require or "
                    "encourage exiting, abstinence or police contact."
                ),
            ),
            ("li", "Fund sex worker-led organizations and pay peer workers."),
            (
                "li",
                (
                    "Measure outcomes our communities define, such as access to care and fewer "
                    "incidents of violence, not the number of people who left the trade."
                ),
            ),
            ("li", "Support the decriminalization of sex work."),
            (
                "p",
                (
                    "Principles adapted from Tara Santini, Alana Klein, Stella, l'amie de Maimie "
                    "&amp; Butterfly Asian and Migrant Sex Worker Support Network, “Sex Work and "
                    "Harm Reduction Discourse: A Reflection” (2020)."
                ),
            ),
        ],
    },
]


def _epoch(date: str) -> int:
    d = dt.date.fromisoformat(date)
    return calendar.timegm((d.year, d.month, d.day, 9, 0, 0))


def build(doc: dict, out_dir: Path) -> Path:
    styles = getSampleStyleSheet()
    body = ParagraphStyle(
        "body", parent=styles["BodyText"], fontName="Helvetica", fontSize=11, leading=15, spaceAfter=8
    )
    bullet = ParagraphStyle("bullet", parent=body, leftIndent=18, bulletIndent=6)
    heading = ParagraphStyle("h", parent=styles["Heading2"], fontName="Helvetica-Bold", fontSize=13)
    title = ParagraphStyle("t", parent=styles["Title"], fontName="Helvetica-Bold", fontSize=18, leading=22)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, textColor="#555555")

    story = []
    for kind, text in doc["blocks"]:
        if kind == "title":
            story += [Paragraph(text, title), Paragraph(NOTICE, small), Spacer(1, 0.3 * cm)]
        elif kind == "h":
            story.append(Paragraph(text, heading))
        elif kind == "li":
            story.append(Paragraph(text, bullet, bulletText="\u2022"))
        elif kind == "break":
            story.append(PageBreak())
        else:
            story.append(Paragraph(text, body))
    story += [Spacer(1, 0.5 * cm), Paragraph(f"Source: {doc['url']}", small)]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillGray(0.4)
        canvas.drawString(2 * cm, 1.2 * cm, f"{doc['outlet']} | {NOTICE}")
        canvas.drawRightString(document.pagesize[0] - 2 * cm, 1.2 * cm, f"Page {document.page}")
        canvas.restoreState()

    path = out_dir / doc["file"]
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(_epoch(doc["date"]))
    try:
        pdf = SimpleDocTemplate(
            str(path),
            pagesize=doc["pagesize"],
            leftMargin=2.2 * cm,
            rightMargin=2.2 * cm,
            topMargin=2 * cm,
            bottomMargin=2.2 * cm,
            title=doc["title"],
            author=doc["author"],
            subject=NOTICE,
            keywords="constructed illustration; hrdiscourse sample corpus",
            creator="hrdiscourse corpora/tools/make_sample_pdfs.py",
            producer="ReportLab",
            invariant=1,
        )
        pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return path


def main() -> None:
    default_out = Path(__file__).resolve().parents[1] / "sample" / "pdf"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=default_out, help=f"output folder (default {default_out})"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for doc in DOCUMENTS:
        print(build(doc, args.out))


if __name__ == "__main__":
    main()
