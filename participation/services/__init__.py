"""The participation service's use cases: one public function per use case, the actor first. The contract:

consultations.py (the department's consultation managers, or a platform admin; reading: everyone):
    create_consultation(actor, department_id, draft: ConsultationDraft) -> Consultation        state draft
    update_consultation(actor, consultation_id, draft) -> Consultation                          draft or published
    publish(actor, id) / close(actor, id) / archive(actor, id) -> Consultation
    list_consultations(status="open"|"upcoming"|"closed", *, district=None, topic=None) -> list[Consultation]
    filter_options() -> (districts, topics); get_by_slug(actor, slug); managed_consultations(actor)
    managed_departments(actor) -> list[Department]; get_managed(actor, id) -> Consultation      (manager pages)

phases.py (the same managers; participation.rules.phase_in_force / open_actions say what is open now):
    add_phase(actor, consultation_id, *, kind, title, starts_at, ends_at, description="", actions=None) -> Phase
    update_phase(actor, phase_id, *, kind, title, starts_at, ends_at, description="", actions=None) -> Phase
    remove_phase(actor, phase_id)                                                               drafts only

pseudonyms.py: choose(actor, name) -> Pseudonym; get_pseudonym(user_id); check_name(name)

proposals.py:
    create_proposal(actor, consultation_id, *, title, body, category=None, address=None, lat=None, lon=None,
                    image_key=None, image_alt=None, pseudonym=None) -> Proposal
    similar_proposals(consultation_id, title, *, limit=5) -> list[Proposal]
    list_proposals(actor, consultation_id, *, order="newest"|"supported", category=None, cursor=None, limit=20)
        -> Page[ProposalItem]
    get_proposal(actor, proposal_id) -> ProposalItem; get_by_reference(actor, "VOR-2026-000001")

images.py (a proposal's optional image): take_image(actor, consultation_id, upload) -> StoredFile (before the
    proposal exists; the form carries its key); own_image(actor, key); discard_image(actor, key);
    image_of(actor, proposal) -> ProposalImage | None; public_image(key) -> (StoredFile, reference)  published only

supports.py: support(actor, proposal_id) -> SupportResult; withdraw(actor, proposal_id) -> SupportResult;
    supports_of(actor, proposal_ids) -> set[int]

comments.py:
    create_comment(actor, consultation_id, *, body, proposal_id=None, parent_id=None, stance=None,
                   pseudonym=None, guest_name=None, paragraph_id=None) -> Comment   a paragraph: "comment_draft"
    edit_comment(actor, comment_id, *, body, stance=None) -> Comment       author, within PARTICIPATION_EDIT_MINUTES
    list_comments(actor, consultation_id, *, proposal_id=None, cursor=None, limit=20, replies=3, paragraph_id=None)
        -> Page[CommentItem]; action_for(comment) -> the rules' action for answering or editing it
    list_replies(actor, comment_id, *, cursor=None, limit=20, replies=3) -> Page[CommentItem]

contributions.py (the citizens' pages): get_comment(actor, comment_id) -> CommentInContext (the comment as its
    thread shows it, with its consultation and proposal); my_participation(actor) -> MyParticipation

moderation.py (kind "proposal" | "comment"; moderators everywhere, managers in their department's consultations):
    flag(actor, kind, id, *, reason, text="") -> Flag                  signed in, once, not one's own; opens a case
    hide(actor, kind, id, *, reason, text="") / restore(actor, kind, id, *, text="") / publish(actor, kind, id)
    dismiss(actor, kind, id, *, text="") -> ModerationCase             counters follow every change of state
    open_pending_case(consultation, contribution)                     called when a pending contribution is written
moderation_queue.py: queue(actor, *, consultation_id=None) -> list[QueueEntry]; get_case(actor, kind, id);
    statistics(actor, *, consultation_id=None) -> list[ModerationStats]; published_contribution(actor, kind, id)
moderation_people.py: author_notice(actor, kind, id); appeal(actor, kind, id, *, text) (once);
    decide_appeal(actor, appeal_id, *, grant, note); appeals(actor); block_author(actor, kind, id, *, days, reason);
    lift_block(actor, block_id); blocks(actor)                        blocks: moderators (and platform admins) only

answers.py (the consultation's managers; while published or closed; the author is the audit subject):
    answer(actor, proposal_id, status, text) -> ProposalUpdate        accepted | under_review | rejected
    add_progress(actor, proposal_id, status, text) -> ProposalUpdate  only while the latest answer is accepted
    history(proposal_id) -> list[HistoryEntry]                       oldest first, signed by the department
    history_of(proposal) -> list[HistoryEntry]                       the same; no query if never answered
    awaiting_answer(actor, consultation_id) -> list[Proposal]; answer_list(actor, consultation_id, *, show, status,
    page); answer_case(actor, consultation_id, reference)
detach.py: detach_authors(now=None) -> DetachReport   consultations closed PARTICIPATION_DETACH_AFTER_DAYS ago

exports.py (those who moderate the consultation: its managers, moderators, platform admins; audited, no authors):
    export_csv(actor, consultation_id, table_name) -> ExportFile    vorschlaege|kommentare|unterstuetzungen|umfrage
    export_xlsx(actor, consultation_id) -> ExportFile                 one sheet per table
report.py: council_report(actor, consultation_id, language) -> CouncilReport   the council's PDF (report_figures.py)
readers.py (council read access; granting: the consultation's managers; audited, the reader is the subject):
    grant(actor, consultation_id, email) -> ConsultationReader        an existing account; once while in force
    revoke(actor, consultation_id, grant_id); readers_of(actor, consultation_id) -> list[ReaderItem]
    figures(actor, slug) -> Figures; reader_report(actor, slug, language) -> CouncilReport    readers and managers
        (survey results before they are public, no free texts); may_read(actor, consultation); readable(actor, slug)
moderation_identity.py: reveal_identity(actor, kind, id, *, reason) -> Identity   the account behind a pseudonym,
    for those who moderate the consultation, in a moderation case; audited with the participant as subject

surveys.py (questions: the consultation's managers, until a phase opening "answer_survey" starts and nobody answered):
    add_question / update_question(actor, id, QuestionDraft) -> SurveyQuestion; remove_question; move_question(.., step)
    list_questions(actor, consultation_id); questions_editable(consultation); has_answered(actor, consultation_id)
    answer_survey(actor, consultation_id, {question_id: option id(s) | value | text}) -> SurveyResponse
        once per person (already_answered, 409); SurveyInvalid (422) with .errors {question_id: message}
survey_results.py: survey_results(actor, consultation_id) -> SurveyResults   public once the survey is over,
    managers any time (with free texts); results_public(consultation); text_answers(actor, question_id, *, cursor)
drafts.py (the consultation's managers, until a phase opening "comment_draft" starts and nobody commented):
    save_draft(actor, consultation_id, text) -> list[DraftParagraph]   blank lines split; "§ 3 Heading" numbers
    list_paragraphs(actor, consultation_id); get_paragraph(actor, consultation_id, id); split_draft(text)

Errors: participation.errors.ParticipationError (field, message, code, status); ActionRefused when the rules
(participation.rules.refusal) refuse; werkzeug's NotFound / Forbidden for what the actor may not see or do.

Locks (PostgreSQL): a writing use case locks its consultation's row first (load_consultation(for_update=True)),
then the rows below it, and writes its audit event last. Keep that order in new use cases (moderation too).
"""
