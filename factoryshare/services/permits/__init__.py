"""Izin edar: permits of members' businesses and products, the rules that need them, the gate.

Rules kept here:
- Number formats per type (shared/DOMAIN.md section 3): NIB 13 digits; P-IRT 15 digits whose
  last two digits are the expiry year (cross-checked with `expires_on`); BPOM `MD`/`ML` + 12 to
  16 digits; halal (BPJPH) `ID` + 17 digits (or a legacy 14-digit MUI number); trademark
  `IDM` + 9 digits (registration) or `DID`/`JID` + 10 digits (application); SNI free text.
- `expires_on` is the last day a permit is valid, in the house's time zone: it lapses at
  00:00 house time the day after.
- The derived state: `pending` (applied for), `needs_review` (halal after a routing or
  family change), `expired` (after `expires_on`), `expiring` (at most the type's renewal
  window days left), else `valid`.
- A product needs, per requirement group (`one_of`), one permit of a type in the group that
  is active and valid over the whole booked time. A business-level type (NIB) is satisfied by
  the member's own NIB on record when no NIB permit is stored.
- A manager's override covering the booked time lets the gate pass; it is audited.
- Verification is separate from the derived state. A permit a member records (or changes in
  its number, dates, issue or document) is `submitted`; one recorded or changed by a manager
  of the member's house or an admin is `verified` in their name. A manager or admin verifies
  a submitted permit (`verify_permit`, optional note) or rejects it (`reject_permit`, reason
  required; event `permit_verification_rejected`). Only a verified permit counts at the gate,
  in the overview and for the watch; in a house with `trust_member_permits` a submitted one
  counts too; a rejected one never does. When an unverified entry is what is missing, the
  gate answers 409 `permit_unverified` naming the permit.
- `needs_review` on a halal certificate is cleared only by a manager of the member's house or
  an admin, with a note (audited `permit.review_cleared`); a member gets 403.
- A permit's document (PDF, PNG or JPEG by its first bytes, at most 5 MB) is stored in the
  database with the permit; a member's documents together stay within a cap (413).

The package, by area (each module names what it holds; `core` is what they share):
`numbers` (number formats, dates per type), `state` (derived state, what counts),
`gate` (requirements, gaps, the booking and planning gate), `reference` (permit types,
requirements, overrides), `records` (a member's permits and their verification), `documents`
(attach, remove, read, the cap), `watch` (review on a product change, the overview, the daily
watch). Callers write `permits.<name>`: every name they use is re-exported here.
"""

from __future__ import annotations

from factoryshare import audit as audit  # tests patch permits.audit.record
from factoryshare.services.permits.documents import (
    DOCUMENT_KINDS,
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_BYTES_PER_MEMBER,
    DocumentStorageFull,
    StoredDocument,
    attach_document,
    document,
    remove_document,
)
from factoryshare.services.permits.gate import (
    Gap,
    check_gate,
    deadline_minute,
    gaps,
    production_deadline,
    require_permits,
    requirements_for,
    requirements_of,
)
from factoryshare.services.permits.numbers import validate_number
from factoryshare.services.permits.records import (
    CHECKED_FIELDS,
    PERMIT_FIELDS,
    clear_review,
    create_permit,
    delete_permit,
    get_permit,
    list_permits,
    reject_permit,
    update_permit,
    verify_permit,
)
from factoryshare.services.permits.reference import (
    REQUIREMENT_FIELDS,
    TYPE_FIELDS,
    create_override,
    create_requirement,
    create_type,
    delete_requirement,
    get_requirement,
    get_type,
    list_overrides,
    list_requirements,
    list_types,
    revoke_override,
    update_requirement,
    update_type,
)
from factoryshare.services.permits.state import (
    STATES,
    VERIFICATIONS,
    counts,
    counts_for_gate,
    days_left,
    lapse_moment,
    local_today,
    state,
    state_on,
)
from factoryshare.services.permits.watch import (
    REMINDER_DAYS,
    WATCH_LOCAL_HOUR,
    on_product_changed,
    overview,
    run_watch,
)

__all__ = [
    "CHECKED_FIELDS",
    "DOCUMENT_KINDS",
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_BYTES_PER_MEMBER",
    "PERMIT_FIELDS",
    "REMINDER_DAYS",
    "REQUIREMENT_FIELDS",
    "STATES",
    "TYPE_FIELDS",
    "VERIFICATIONS",
    "WATCH_LOCAL_HOUR",
    "DocumentStorageFull",
    "Gap",
    "StoredDocument",
    "attach_document",
    "check_gate",
    "clear_review",
    "counts",
    "counts_for_gate",
    "create_override",
    "create_permit",
    "create_requirement",
    "create_type",
    "days_left",
    "deadline_minute",
    "delete_permit",
    "delete_requirement",
    "document",
    "gaps",
    "get_permit",
    "get_requirement",
    "get_type",
    "lapse_moment",
    "list_overrides",
    "list_permits",
    "list_requirements",
    "list_types",
    "local_today",
    "on_product_changed",
    "overview",
    "production_deadline",
    "reject_permit",
    "remove_document",
    "require_permits",
    "requirements_for",
    "requirements_of",
    "revoke_override",
    "run_watch",
    "state",
    "state_on",
    "update_permit",
    "update_requirement",
    "update_type",
    "validate_number",
    "verify_permit",
]
