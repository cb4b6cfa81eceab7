"""A consultation with everything the exports and the council report show: proposals in two categories (one with
texts that look like spreadsheet formulas, one hidden), a thread three levels deep with a hidden and a pending
guest comment, supports, an official answer, and a survey with two answer sets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from participation.models import Comment, Consultation, Proposal
from participation.models_surveys import SurveyAnswer, SurveyOption, SurveyQuestion, SurveyResponse
from participation.services import answers, comments, moderation, supports
from portal.accounts.models import User
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import utcnow
from tests.participation.builders import (
    World,
    actor,
    make_comment,
    make_consultation,
    make_person,
    make_proposal,
    set_created_at,
)

FORMULA_TITLE = '=HYPERLINK("http://evil.example","Klick")'
FORMULA_BODY = "@SUMME(1+1) sagt alles"
FORMULA_REPLY = "+1 von mir"
HIDDEN_TITLE = "Beleidigender Titel"
HIDDEN_TEXT = "Verborgene Beleidigung gegen Max Mustermann"
ANSWER_TEXT = "Wir pflanzen im Herbst zwölf Linden."
FREE_TEXT = "Mein Nachbar Herr Schmidt parkt immer dort."


@dataclass
class Scenario:
    world: World
    moderator: User
    consultation: Consultation
    trees: Proposal  # "Mehr Bäume am Altmarkt", category Grün, two supports, answered, backdated two weeks
    formula: Proposal  # title and text that look like formulas, category Verkehr, one support
    hidden: Proposal  # hidden by the moderator
    top: Comment  # on trees, pro
    reply: Comment  # answers top, contra, looks like a formula
    deeper: Comment  # answers reply
    rude: Comment  # hidden
    guest: Comment  # a guest's comment, pending

    def personal_data(self) -> list[str]:
        """What would identify participants: account emails and names, pseudonyms, the guest's name."""
        people = (self.world.anna, self.world.ben, self.world.newcomer, self.world.manager, self.moderator)
        return [
            *(person.email for person in people),
            *(person.display_name for person in people),
            "Anna Aktiv",
            "Ben Beteiligt",
            "Gustav Gast",
        ]


def make_scenario(world: World) -> Scenario:
    moderator = make_person("moritz@stadt.example", roles=("moderator",), display_name="Moritz Moderator")
    consultation = make_consultation(
        world, audience="guests", categories=["Grün", "Verkehr"], district="Altstadt", topic="Stadtgrün"
    )
    trees = make_proposal(world, consultation, title="Mehr Bäume am Altmarkt", category="Grün")
    formula = make_proposal(world, consultation, world.ben, title=FORMULA_TITLE, body=FORMULA_BODY, category="Verkehr")
    hidden = make_proposal(world, consultation, world.ben, title=HIDDEN_TITLE, body=HIDDEN_TEXT)
    moderation.hide(actor(moderator), "proposal", hidden.id, reason="abuse")

    top = make_comment(world, consultation, proposal_id=trees.id, body="Ja, bitte!", stance="pro")
    reply = make_comment(
        world, consultation, world.ben, proposal_id=trees.id, parent_id=top.id, body=FORMULA_REPLY, stance="contra"
    )
    deeper = make_comment(world, consultation, proposal_id=trees.id, parent_id=reply.id, body="Warum dagegen?")
    rude = make_comment(world, consultation, world.ben, proposal_id=trees.id, body=HIDDEN_TEXT)
    moderation.hide(actor(moderator), "comment", rude.id, reason="abuse")
    guest = comments.create_comment(
        ANONYMOUS, consultation.id, proposal_id=trees.id, body="Als Gast dabei", guest_name="Gustav Gast"
    )

    supports.support(actor(world.ben), trees.id)
    supports.support(actor(world.newcomer), trees.id)
    supports.support(actor(world.anna), formula.id)
    answers.answer(actor(world.manager), trees.id, "accepted", ANSWER_TEXT)
    set_created_at(trees, utcnow() - timedelta(days=14))
    _survey(world, consultation)
    return Scenario(world, moderator, consultation, trees, formula, hidden, top, reply, deeper, rude, guest)


def _survey(world: World, consultation: Consultation) -> None:
    """Two answer sets, written straight into the tables (the survey's own pages are tested elsewhere)."""
    walk, bike = SurveyOption(position=0, label="Zu Fuß"), SurveyOption(position=1, label="=Rad")
    choice = SurveyQuestion(
        consultation_id=consultation.id, position=0, kind="single", text="Wie kommen Sie zum Altmarkt?"
    )
    choice.options.extend([walk, bike])
    scale = SurveyQuestion(
        consultation_id=consultation.id,
        position=1,
        kind="scale",
        text="Wie wichtig sind Ihnen Bäume?",
        scale_min=1,
        scale_max=5,
        min_label="unwichtig",
        max_label="sehr wichtig",
    )
    text = SurveyQuestion(consultation_id=consultation.id, position=2, kind="text", text="Was fehlt noch?")
    db.session.add_all([choice, scale, text])
    db.session.flush()
    for user, option, value, free in ((world.anna, walk, 5, FREE_TEXT), (world.ben, bike, 3, None)):
        response = SurveyResponse(consultation_id=consultation.id, user_id=user.id)
        db.session.add(response)
        db.session.flush()
        db.session.add_all(
            [
                SurveyAnswer(response_id=response.id, question_id=choice.id, option_id=option.id),
                SurveyAnswer(response_id=response.id, question_id=scale.id, value=value),
            ]
        )
        if free:
            db.session.add(SurveyAnswer(response_id=response.id, question_id=text.id, text=free))
    db.session.commit()
