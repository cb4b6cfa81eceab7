"""The data-access service's use cases: one public function per use case, the actor first. The contract:

catalogue.py (the owning department's data steward: datasets and fields; the dpo: purposes, legal bases):
    create_dataset(actor, *, department_id, key, name, retention_days, subject_kind, description="") -> Dataset
    update_dataset(actor, dataset_id, *, name, description, retention_days, active) -> Dataset
    save_field(actor, dataset_id, *, name, label, category, special_category=False, position=None) -> DatasetField
    save_purpose(actor, *, code, label, description="", active=True) -> Purpose
    save_legal_basis(actor, *, label, citation, active=True) -> LegalBasis
    datasets(department_id=None), get_dataset(key_or_id), purposes(), legal_bases()

agreements.py (versioned; approved by the owning data steward AND the dpo through portal.approvals):
    draft_agreement(actor, terms: AgreementTerms) -> AccessAgreement          version 1, a new DZV reference
    update_draft(actor, agreement_id, terms) -> AccessAgreement              drafts only
    new_version(actor, agreement_id, terms=None) -> AccessAgreement          a draft v+1 of the same reference
    submit(actor, agreement_id, reason="") -> AccessAgreement                both approval requests, one transaction
    (decisions: portal.approvals.services.decide on the two requests; approved in the second one's transaction)
    revoke(actor, agreement_id, reason) -> AccessAgreement                   dpo or the owning data steward
    resolve(agreement_ref_or_id) -> AccessAgreement | None                   the version an access would use
    versions(reference) -> list[AccessAgreement]                             newest first
  beside it: agreement_terms.py (AgreementTerms, checked against the catalogue), agreement_approvals.py (the
  two approval kinds and their callbacks), agreement_versions.py (finding versions); AgreementTerms, the kinds,
  register_kinds, resolve and versions are importable from agreements.py too

access.py:
    read(actor, agreement, purpose, case_reference, subject, fields) -> AccessResult   (AccessRefused otherwise)
  the rules it checks before reading, and what a refused attempt logs: access_checks.py; the hourly limit's
  counter (one row per agreement and reader, locked from counting to commit): rate_limit.py

records.py (where a dataset's records come from):
    register_provider(app, dataset_key, fetch)      fetch(subject: Subject) -> list[dict]; read-only
    put_record(actor, dataset_key, record_key, subject, data) -> DatasetRecord   the portal's own record store
    Subject(user_id=None, reference=None), parse_subject(value, subject_kind)

citizen_requests.py (once-only: the citizen asks, a standing request holds until revoked):
    create_request(actor, *, consumer_department_id, dataset_id, purpose_code, standing, case_reference=None)
    revoke_request(actor, request_id), active_requests(actor), find_request(...)

clients.py: bind_client(actor, token_id, department_id, agreement_reference=None) -> AccessClient
"""
