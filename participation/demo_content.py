"""What the participation demo (participation/demo.py) writes: three consultations of the demo city, the
participants' proposals, comments, supports and survey answers, and the city's official answers.

Plain data: the loader sends every item through the service functions. Days are counted from today in Berlin
(a phase from day -10 to day 32 began ten days ago at midnight and ends 32 days from now), so the open
consultation is open whenever the demo is loaded. Texts are data written by "people", not the portal's own
texts, so they are not translated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from participation.models import PhaseKind
from participation.models_results import AnswerStatus, ImplementationStatus
from participation.rules import ANSWER_SURVEY, COMMENT, PROPOSE, SUPPORT
from participation.services.consultations import ConsultationDraft
from participation.services.surveys import QuestionDraft

# The participants (local parts under DEMO_DOMAIN): the core's demo citizen and three more the participation
# demo adds, each with the pseudonym they take part under. Their account names stay private.
PARTICIPANTS: dict[str, str] = {
    "buerger": "Marktfreundin",
    "buerger2": "Pedalritter",
    "buerger3": "Kiezkind",
    "buerger4": "Altstadtkenner",
}
NEW_CITIZENS = [
    ("buerger2", "Jonas Becker"),
    ("buerger3", "Aylin Demir"),
    ("buerger4", "Heinz Krüger"),
]
MANAGER = "amtsadmin"  # consultation_manager of the consultations' departments (granted by the demo)
MANAGED_DEPARTMENTS = ("verkehr-tiefbau", "bauordnung")


@dataclass(frozen=True)
class DemoPhase:
    kind: str
    title: str
    start_day: int
    end_day: int
    description: str = ""
    actions: tuple[str, ...] | None = None  # None: those of its kind


@dataclass(frozen=True)
class DemoProposal:
    author: str
    title: str
    body: str
    category: str | None = None
    address: str | None = None
    point: tuple[float, float] | None = None  # lat, lon
    supporters: tuple[str, ...] = ()
    answer: tuple[str, str] | None = None  # status, text (the closed consultation)
    progress: tuple[str, str] | None = None  # status, text, after an accepting answer


@dataclass(frozen=True)
class DemoComment:
    key: str
    author: str
    body: str
    stance: str | None = None
    proposal: str | None = None  # a proposal's title; None: on the consultation itself
    parent: str | None = None  # another comment's key
    flag: tuple[str, str, str] | None = None  # reporter, reason code, explanation: waits for the moderators


@dataclass(frozen=True)
class DemoConsultation:
    department: str
    draft: ConsultationDraft
    phases: list[DemoPhase]
    proposals: list[DemoProposal] = field(default_factory=list)
    comments: list[DemoComment] = field(default_factory=list)
    questions: list[QuestionDraft] = field(default_factory=list)
    survey_answers: dict[str, dict[int, object]] = field(default_factory=dict)  # participant → {position: answer}
    draft_text: str = ""
    # Set for a consultation the demo closes: its proposal phase ends at the load, and this phase follows it,
    # from that moment to its end_day (its start_day is not used).
    closing_phase: DemoPhase | None = None


def _square(south: float, west: float, north: float, east: float) -> str:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


MARKET = "Neugestaltung des Marktplatzes"
MARKET_CONSULTATION = DemoConsultation(
    department="verkehr-tiefbau",
    draft=ConsultationDraft(
        title=MARKET,
        summary=(
            "Der Marktplatz in der Altstadt wird bis 2028 neu gestaltet. Bevor das Planungsbüro beauftragt wird, "
            "sammeln wir Ihre Ideen: Was soll der Platz künftig bieten, und was muss bleiben?"
        ),
        body=(
            "<p>Der Marktplatz ist heute vor allem Parkplatz und Durchgangsfläche. Der Stadtrat hat beschlossen, "
            "ihn zu einem <strong>Platz zum Verweilen</strong> umzubauen, auf dem der Wochenmarkt und die "
            "Feste der Altstadt weiter Platz haben.</p>"
            "<p>Bis zum Ende der Ideenphase können Sie:</p>"
            "<ul><li>Vorschläge einreichen und auf der Karte verorten,</li>"
            "<li>die Vorschläge anderer unterstützen und kommentieren,</li>"
            "<li>an einer kurzen Umfrage teilnehmen.</li></ul>"
            "<p>Alle Vorschläge mit mindestens drei Unterstützungen beantwortet die Verwaltung öffentlich.</p>"
        ),
        district="Altstadt",
        topic="Öffentlicher Raum",
        categories=["Grün und Klima", "Aufenthalt und Sitzen", "Verkehr und Wege", "Märkte und Veranstaltungen"],
        contact_name="Clara Lehmann, Abteilung Stadtraum",
        contact_email="marktplatz@stadtportal.example",
        support_threshold=3,
        area_geojson=_square(51.0498, 13.7370, 51.0516, 13.7418),
    ),
    phases=[
        DemoPhase(
            PhaseKind.INFORMATION,
            "Auftakt: Bestand und Rahmenbedingungen",
            -24,
            -10,
            "Die Stadt stellt den heutigen Platz, den Zeitplan und die Vorgaben des Denkmalschutzes vor.",
        ),
        DemoPhase(
            PhaseKind.PROPOSALS,
            "Ideen sammeln und Umfrage",
            -10,
            32,
            "Reichen Sie Vorschläge ein, unterstützen und kommentieren Sie die anderer, und beantworten Sie die "
            "Umfrage.",
            # Phases never overlap; the survey runs in this phase instead of one of its own.
            (PROPOSE, COMMENT, SUPPORT, ANSWER_SURVEY),
        ),
        DemoPhase(
            PhaseKind.RESULTS,
            "Auswertung und Antworten der Verwaltung",
            32,
            90,
            "Die Verwaltung wertet die Beiträge aus und beantwortet die meistunterstützten Vorschläge.",
        ),
    ],
    proposals=[
        DemoProposal(
            "buerger",
            "Schattenspendende Bäume am Rand des Platzes",
            "Im Sommer heizt sich der Platz stark auf. Eine Baumreihe an der Süd- und Westseite würde Schatten "
            "spenden, ohne die Mitte für Markt und Feste zu verstellen.",
            "Grün und Klima",
            "Am Markt 2",
            (51.0504, 13.7398),
            ("buerger2", "buerger3", "buerger4"),
        ),
        DemoProposal(
            "buerger2",
            "Trinkbrunnen neben dem Rathauseingang",
            "Ein öffentlicher Trinkbrunnen hilft an heißen Tagen allen, besonders Kindern und älteren Menschen.",
            "Grün und Klima",
            "Rathausplatz 1",
            (51.0503, 13.7376),
            ("buerger", "buerger3", "buerger4"),
        ),
        DemoProposal(
            "buerger3",
            "Mehr Sitzbänke mit Rückenlehne",
            "Es gibt kaum Möglichkeiten, sich ohne Verzehrzwang hinzusetzen. Bänke mit Rücken- und Armlehnen "
            "machen den Platz auch für Ältere angenehm.",
            "Aufenthalt und Sitzen",
            supporters=("buerger", "buerger4"),
        ),
        DemoProposal(
            "buerger2",
            "Fahrradbügel an der Kirchgasse",
            "Wer mit dem Rad zum Markt kommt, findet keinen Platz zum Anschließen. Zehn Bügel an der Einmündung "
            "der Kirchgasse würden reichen.",
            "Verkehr und Wege",
            "Kirchgasse 1",
            (51.0515, 13.7414),
            ("buerger3",),
        ),
        DemoProposal(
            "buerger4",
            "Wochenmarkt auch am Samstag",
            "Viele arbeiten unter der Woche und kommen nie zum Markt. Ein Samstagsmarkt würde den Platz beleben.",
            "Märkte und Veranstaltungen",
            supporters=("buerger", "buerger2"),
        ),
        DemoProposal(
            "buerger",
            "Wasserspiel für Kinder",
            "Ein paar Bodendüsen, die im Sommer Wasser sprühen, kühlen und laden Kinder zum Spielen ein. Im "
            "Winter bleibt die Fläche frei.",
            "Aufenthalt und Sitzen",
            "Am Markt 10",
            (51.0507, 13.7404),
            ("buerger3",),
        ),
        DemoProposal(
            "buerger3",
            "Barrierefreie Wege über das Kopfsteinpflaster",
            "Mit Rollstuhl, Rollator oder Kinderwagen ist das Pflaster kaum zu schaffen. Ein Streifen mit "
            "glatten Platten quer über den Platz würde helfen.",
            "Verkehr und Wege",
            supporters=("buerger", "buerger2", "buerger4"),
        ),
        DemoProposal(
            "buerger4",
            "Lieferverkehr nur bis 10 Uhr",
            "Tagsüber sollen keine Lieferwagen über den Platz fahren. Bis 10 Uhr reicht für die Geschäfte.",
            "Verkehr und Wege",
        ),
    ],
    comments=[
        DemoComment(
            "bauzeit",
            "buerger4",
            "Wird der Platz während der Bauzeit ganz gesperrt? Der Wochenmarkt braucht eine Ausweichfläche.",
            "neutral",
        ),
        DemoComment(
            "bauzeit-antwort",
            "buerger2",
            "Bei der Auftaktveranstaltung hieß es, es werde in Abschnitten gebaut und der Markt ziehe so lange in "
            "die Schloßstraße.",
            "neutral",
            parent="bauzeit",
        ),
        DemoComment(
            "baeume",
            "buerger2",
            "Unbedingt! Im Juli war es auf dem Platz kaum auszuhalten.",
            "pro",
            proposal="Schattenspendende Bäume am Rand des Platzes",
        ),
        DemoComment(
            "baeume-markt",
            "buerger4",
            "Bäume ja, aber bitte so, dass der Weihnachtsmarkt seine Stände weiter aufbauen kann.",
            "neutral",
            parent="baeume",
        ),
        DemoComment(
            "baeume-rand",
            "buerger",
            "Genau deshalb der Rand: Die Mitte bleibt frei für Markt und Feste.",
            "pro",
            parent="baeume-markt",
        ),
        DemoComment(
            "pflaster",
            "buerger",
            "Mit dem Rollator meiner Mutter ist das jetzige Pflaster eine Zumutung.",
            "pro",
            proposal="Barrierefreie Wege über das Kopfsteinpflaster",
        ),
        DemoComment(
            "pflaster-gesaegt",
            "buerger3",
            "Gesägtes Pflaster wäre ein Kompromiss: es sieht alt aus und ist trotzdem eben.",
            "pro",
            parent="pflaster",
        ),
        DemoComment(
            "pflaster-denkmal",
            "buerger4",
            "Das historische Pflaster gehört zum Stadtbild. Ein glatter Streifen quer über den Platz sähe fremd aus.",
            "contra",
            parent="pflaster-gesaegt",
        ),
        DemoComment(
            "liefer",
            "buerger2",
            "Die kleinen Läden bekommen ihre Ware oft erst mittags. Bis 10 Uhr ist zu knapp.",
            "contra",
            proposal="Lieferverkehr nur bis 10 Uhr",
        ),
        DemoComment(
            "liefer-grob",
            "buerger4",
            "So ein Unsinn. Wer so etwas schreibt, hat noch nie einen Laden geführt und sollte besser schweigen.",
            "contra",
            parent="liefer",
            flag=("buerger2", "abuse", "Persönlich abwertend statt sachlich."),
        ),
        DemoComment(
            "samstag",
            "buerger3",
            "Ein Samstagsmarkt wäre ideal für alle, die unter der Woche arbeiten.",
            "pro",
            proposal="Wochenmarkt auch am Samstag",
        ),
    ],
    questions=[
        QuestionDraft(
            "single",
            "Wie oft sind Sie auf dem Marktplatz?",
            required=True,
            options=["Fast täglich", "Mehrmals im Monat", "Seltener"],
        ),
        QuestionDraft(
            "multiple",
            "Was wünschen Sie sich auf dem neuen Marktplatz?",
            options=["Bäume und Schatten", "Sitzplätze", "Trinkbrunnen", "Spielmöglichkeiten", "Platz für Feste"],
        ),
        QuestionDraft(
            "scale",
            "Wie wichtig ist Ihnen ein Marktplatz ohne parkende Autos?",
            scale_min=1,
            scale_max=5,
            min_label="unwichtig",
            max_label="sehr wichtig",
        ),
    ],
    # Answers by position: an option's label (or labels), or the scale's value.
    survey_answers={
        "buerger": {0: "Fast täglich", 1: ["Bäume und Schatten", "Sitzplätze"], 2: 5},
        "buerger2": {0: "Mehrmals im Monat", 1: ["Trinkbrunnen", "Bäume und Schatten"], 2: 4},
        "buerger3": {0: "Mehrmals im Monat", 1: ["Sitzplätze", "Spielmöglichkeiten", "Platz für Feste"], 2: 5},
        "buerger4": {0: "Seltener", 1: ["Platz für Feste"], 2: 2},
    },
)

STATUTE = "Gestaltungssatzung für die Altstadt"
STATUTE_CONSULTATION = DemoConsultation(
    department="bauordnung",
    draft=ConsultationDraft(
        title=STATUTE,
        summary=(
            "Die Stadt will verbindlich regeln, wie Dächer, Fassaden und Werbeanlagen in der Altstadt aussehen "
            "dürfen. Kommentieren Sie den Entwurf der Satzung Absatz für Absatz."
        ),
        body=(
            "<p>Die Gestaltungssatzung soll das Bild der Altstadt bewahren, ohne Solaranlagen und "
            "barrierefreie Umbauten zu verhindern. Der Entwurf liegt ab Beginn der Kommentierung hier aus.</p>"
        ),
        district="Altstadt",
        topic="Stadtbild und Denkmalpflege",
        contact_name="Team Denkmalpflege",
        contact_email="denkmalpflege@stadtportal.example",
    ),
    phases=[
        DemoPhase(
            PhaseKind.DRAFT,
            "Den Entwurf kommentieren",
            14,
            56,
            "Kommentieren Sie jeden Paragraphen des Entwurfs einzeln.",
        ),
        DemoPhase(PhaseKind.RESULTS, "Abwägung und Beschluss im Stadtrat", 56, 120),
    ],
    draft_text=(
        "§ 1 Geltungsbereich\n"
        "Die Satzung gilt für die Altstadt innerhalb der Grenzen des beigefügten Lageplans.\n\n"
        "§ 2 Dächer\n"
        "Dächer sind als Sattel- oder Walmdächer mit einer Neigung von 35 bis 50 Grad auszuführen. Solaranlagen "
        "sind zulässig, wenn sie sich der Dachfläche unterordnen.\n\n"
        "§ 3 Fassaden\n"
        "Fassaden sind verputzt oder in Naturstein auszuführen. Grelle und glänzende Farben sind unzulässig.\n\n"
        "§ 4 Werbeanlagen\n"
        "Werbeanlagen sind nur an der Stätte der Leistung und nur im Erdgeschoss zulässig; Leuchtreklame mit "
        "wechselndem Licht ist unzulässig.\n\n"
        "§ 5 Ordnungswidrigkeiten\n"
        "Ordnungswidrig handelt, wer vorsätzlich oder fahrlässig gegen §§ 2 bis 4 verstößt."
    ),
)

SCHOOL = "Sichere Schulwege in der Neustadt"
SCHOOL_CONSULTATION = DemoConsultation(
    department="verkehr-tiefbau",
    draft=ConsultationDraft(
        title=SCHOOL,
        summary=(
            "Eltern, Kinder und Anwohnende haben gesammelt, wo der Schulweg in der Neustadt gefährlich ist. Die "
            "Verwaltung hat jeden Vorschlag geprüft und beantwortet."
        ),
        body="<p>Die Vorschläge und die Antworten der Verwaltung bleiben hier zum Nachlesen.</p>",
        district="Neustadt",
        topic="Verkehr",
        categories=["Querungen", "Tempo", "Haltestellen und Bringzonen"],
        contact_name="Verkehrsplanung",
        contact_email="schulwege@stadtportal.example",
    ),
    phases=[
        DemoPhase(PhaseKind.PROPOSALS, "Gefahrenstellen und Vorschläge sammeln", -42, 1),
    ],
    closing_phase=DemoPhase(
        PhaseKind.RESULTS,
        "Antworten der Verwaltung und Umsetzung",
        0,
        120,
        "Die Verwaltung beantwortet jeden Vorschlag und berichtet, wie weit die Umsetzung ist.",
    ),
    proposals=[
        DemoProposal(
            "buerger3",
            "Zebrastreifen an der Alaunstraße vor der Grundschule",
            "Morgens queren hier Dutzende Kinder zwischen parkenden Autos. Ein Zebrastreifen würde sie sichtbar "
            "machen.",
            "Querungen",
            "Alaunstraße 40",
            (51.0650, 13.7515),
            ("buerger", "buerger2", "buerger4"),
            answer=(
                AnswerStatus.ACCEPTED,
                "Die Verkehrsbehörde hat die Stelle geprüft: Die Querung wird mit Zebrastreifen und "
                "Gehwegvorstreckungen gesichert.",
            ),
            progress=(
                ImplementationStatus.IN_PROGRESS,
                "Die Markierung und die Gehwegvorstreckungen sind beauftragt; die Arbeiten beginnen in den "
                "nächsten Schulferien.",
            ),
        ),
        DemoProposal(
            "buerger",
            "Tempo 30 auf der Bautzner Straße",
            "Auf der Bautzner Straße fahren Autos mit 50 km/h an zwei Schulwegen vorbei.",
            "Tempo",
            "Bautzner Straße 20",
            (51.0634, 13.7560),
            ("buerger2", "buerger3"),
            answer=(
                AnswerStatus.UNDER_REVIEW,
                "Die Bautzner Straße ist eine Hauptverkehrsstraße. Ob Tempo 30 vor den Schulen angeordnet werden "
                "kann, prüfen wir mit dem Lärmaktionsplan; das Ergebnis folgt hier.",
            ),
        ),
        DemoProposal(
            "buerger2",
            "Elterntaxi-Haltezone in der Louisenstraße",
            "Eine Haltezone ein Stück vor der Schule würde das Chaos der Elterntaxis vor dem Eingang beenden.",
            "Haltestellen und Bringzonen",
            "Louisenstraße 60",
            (51.0663, 13.7530),
            ("buerger4",),
            answer=(
                AnswerStatus.REJECTED,
                "In der Louisenstraße fehlt der Platz für eine Haltezone, ohne Radweg oder Gehweg zu schmälern. "
                "Wir empfehlen stattdessen den Weg zu Fuß ab der Haltestelle Albertplatz.",
            ),
        ),
        DemoProposal(
            "buerger4",
            "Schülerlotsen an der Görlitzer Straße",
            "An der Kreuzung Görlitzer Straße fehlt eine Ampel. Schülerlotsen könnten morgens helfen.",
            "Querungen",
            "Görlitzer Straße 10",
            (51.0660, 13.7534),
            ("buerger", "buerger3"),
            answer=(
                AnswerStatus.ACCEPTED,
                "Die Schule und die Verkehrswacht stellen Schülerlotsen; die Stadt übernimmt die Ausrüstung.",
            ),
            progress=(ImplementationStatus.DONE, "Seit Beginn des Schuljahres stehen morgens Schülerlotsen bereit."),
        ),
    ],
    comments=[
        DemoComment(
            "zebra",
            "buerger",
            "Gut, dass hier endlich etwas passiert. Bitte auch die Beleuchtung prüfen.",
            "pro",
            proposal="Zebrastreifen an der Alaunstraße vor der Grundschule",
        ),
        DemoComment(
            "zebra-licht",
            "buerger3",
            "Ja, im Winter ist es morgens um halb acht noch dunkel.",
            "pro",
            parent="zebra",
        ),
    ],
)

CONSULTATIONS = [MARKET_CONSULTATION, STATUTE_CONSULTATION, SCHOOL_CONSULTATION]
