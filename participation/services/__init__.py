"""The participation service's use cases: one public function per use case, the actor first. The contract:

consultations.py (the department's consultation managers, or a platform admin; reading: everyone):
    create_consultation(actor, department_id, draft: ConsultationDraft) -> Consultation        state draft
    update_consultation(actor, consultation_id, draft) -> Consultation                          draft or published
    publish(actor, id) / close(actor, id) / archive(actor, id) -> Consultation
    list_consultations(status="open"|"upcoming"|"closed", *, district=None, topic=None) -> list[Consultation]
    filter_options() -> (districts, topics); get_by_slug(actor, slug); managed_consultations(actor)

phases.py (the same managers; participation.rules.phase_in_force / open_actions say what is open now):
    add_phase(actor, consultation_id, *, kind, title, starts_at, ends_at, description="", actions=None) -> Phase
    update_phase(actor, phase_id, *, kind, title, starts_at, ends_at, description="", actions=None) -> Phase
    remove_phase(actor, phase_id)                                                               drafts only

pseudonyms.py: choose(actor, name) -> Pseudonym; get_pseudonym(user_id); check_name(name)

proposals.py:
    create_proposal(actor, consultation_id, *, title, body, category=None, address=None, lat=None, lon=None,
                    image_key=None, pseudonym=None) -> Proposal
    similar_proposals(consultation_id, title, *, limit=5) -> list[Proposal]
    list_proposals(actor, consultation_id, *, order="newest"|"supported", category=None, cursor=None, limit=20)
        -> Page[ProposalItem]
    get_proposal(actor, proposal_id) -> ProposalItem; get_by_reference(actor, "VOR-2026-000001")

supports.py: support(actor, proposal_id) -> SupportResult; withdraw(actor, proposal_id) -> SupportResult;
    supports_of(actor, proposal_ids) -> set[int]

comments.py:
    create_comment(actor, consultation_id, *, body, proposal_id=None, parent_id=None, stance=None,
                   pseudonym=None, guest_name=None) -> Comment
    edit_comment(actor, comment_id, *, body, stance=None) -> Comment       author, within PARTICIPATION_EDIT_MINUTES
    list_comments(actor, consultation_id, *, proposal_id=None, cursor=None, limit=20, replies=3) -> Page[CommentItem]
    list_replies(actor, comment_id, *, cursor=None, limit=20, replies=3) -> Page[CommentItem]

Errors: participation.errors.ParticipationError (field, message, code, status); ActionRefused when the rules
(participation.rules.refusal) refuse; werkzeug's NotFound / Forbidden for what the actor may not see or do.

Locks (PostgreSQL): a writing use case locks its consultation's row first (load_consultation(for_update=True)),
then the rows below it, and writes its audit event last. Keep that order in new use cases (moderation too).
"""
