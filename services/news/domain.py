"""News rules, pure: the content lifecycle, content hashes, publication retries, expiry, the
publicity plan and the reply deadline of public comments. No I/O here.

Lifecycle of a content item:

    draft --submit--> in_review --approve--> approved --release--> published
                      in_review --return---> draft      (revise, then submit again)
                      in_review --reject---> rejected   (final)
                                             approved --schedule--> scheduled --release--> published
    published/corrected --correct--> corrected   (a note, shown on every channel)
    published/corrected --retract--> retracted   (a note; the channels take the item down)
    published/corrected/retracted --expire--> expired   (archived, restorable)
    expired --restore--> the status it had before

An item is locked while in review (no edits). Editing an approved or scheduled item creates a
new revision and sends it back to review. Only the approved revision (the one whose content hash
the review approved) is ever published.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

KINDS = ("article", "video", "notice", "statement", "journal_issue")
STATUSES = ("draft", "in_review", "approved", "scheduled", "published", "corrected",
            "retracted", "rejected", "expired")
WORKFLOWS = ("default", "expedited")
LIVE = ("published", "corrected")          # on the channels now
EXPIRABLE = ("published", "corrected", "retracted")
RELEASED = ("approved", "scheduled")       # approved, waiting for its channels or its embargo
EMBARGOABLE = ("draft", "in_review", *RELEASED)   # an embargo may be set or lifted
WAS_LIVE = (*EXPIRABLE, "expired")         # has been published at some point
ACTIONS = ("publish", "correct", "retract", "expire")   # what a channel delivery does
# The item statuses in which a queued delivery of each action still applies (else cancelled).
DELIVERY_APPLIES = {"publish": (*RELEASED, *LIVE), "correct": ("corrected",),
                    "retract": ("retracted",), "expire": ("expired",)}

TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {"draft": "in_review"},
    "approve": {"in_review": "approved"},
    "schedule": {"approved": "scheduled"},
    "publish": {"approved": "published", "scheduled": "published"},
    "return": {"in_review": "draft"},
    "reject": {"in_review": "rejected"},
    "correct": {"published": "corrected", "corrected": "corrected"},
    "retract": {"published": "retracted", "corrected": "retracted"},
    "expire": {s: "expired" for s in EXPIRABLE},
}

OFFICE_TZ = ZoneInfo("Asia/Shanghai")   # the office's days and dates
SERIOUS_LEVELS = ("I", "II")              # incident levels the leadership answers for itself


@dataclass(frozen=True)
class Item:
    """A content item as the rules see it (one row of `items`; datetimes are aware)."""

    id: str
    kind: str
    title: str
    body: str
    column: str | None
    author: str
    status: str
    current_revision: int
    last_submitted_revision: int | None
    approved_hash: str | None
    correlation_id: str
    ticket_id: str | None
    reference_no: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    approved_revision: int | None
    publish_at: datetime | None
    time_sensitive: bool
    valid_until: datetime | None
    expires_at: datetime | None
    expiry_notified_at: datetime | None
    archived: bool

    @property
    def shown_revision(self) -> int:
        """The revision the channels show: the approved one, else the current one."""
        return self.approved_revision or self.current_revision

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Revision:
    """One revision of an item: every edit is one, with its author and content hash."""

    item_id: str
    number: int
    title: str
    body: str
    content_hash: str
    author: str | None
    created_at: datetime


ITEM_FIELDS = tuple(f.name for f in fields(Item))
REVISION_FIELDS = tuple(f.name for f in fields(Revision))


class NewsError(Exception):
    """A request the content rules refuse."""


class InvalidTransition(NewsError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action} an item that is {status}")
        self.status = status
        self.action = action


class Locked(InvalidTransition):
    """The item is in review: nobody edits it until the review decides."""

    def __init__(self, status: str = "in_review", action: str = "revise") -> None:
        super().__init__(status, action)
        self.args = ("the item is locked while in review",)


class NotResubmittable(NewsError):
    """A returned revision must be revised before it is submitted again."""


class StaleApproval(NewsError):
    """The approval is for content other than the item's current revision."""


def transition(status: str, action: str) -> str:
    """The status after `action`, or InvalidTransition."""
    target = TRANSITIONS.get(action, {}).get(status)
    if target is None:
        raise InvalidTransition(status, action)
    return target


def can(status: str, action: str) -> bool:
    return status in TRANSITIONS.get(action, {})


def content_hash(title: str, body: str) -> str:
    """sha256 hex of a revision's content (title and body, UTF-8, NUL-separated)."""
    return hashlib.sha256(f"{title}\x00{body}".encode()).hexdigest()


def check_submit(status: str, revision: int, last_submitted: int | None) -> str:
    """Status after submitting `revision`; a revision goes to review only once."""
    target = transition(status, "submit")
    if last_submitted is not None and revision <= last_submitted:
        raise NotResubmittable(f"revision {revision} was already submitted; revise it first")
    return target


def check_revise(status: str) -> str:
    """Status after an edit. A draft stays a draft; an approved or scheduled item goes back to
    review with the new revision; an item in review is locked; anything published is changed
    only by a correction or a retraction."""
    if status == "in_review":
        raise Locked()
    if status == "draft":
        return "draft"
    if status in ("approved", "scheduled"):
        return "in_review"
    raise InvalidTransition(status, "revise")


def check_approval(status: str, current_hash: str, approved_hash: str) -> str:
    """Status after an approval of `approved_hash`; it must be the current revision's."""
    target = transition(status, "approve")
    if current_hash != approved_hash:
        raise StaleApproval("the approved content is not the item's current revision")
    return target


def check_publish(status: str, current_hash: str, approved_hash: str | None) -> str:
    """Status after publishing; only the approved revision is ever published."""
    target = transition(status, "publish")
    if approved_hash is None or approved_hash != current_hash:
        raise StaleApproval("only the approved revision can be published")
    return target


def check_embargo(status: str) -> bool:
    """Whether setting an embargo on an item in `status` takes effect on its channels at once
    (approved content: it is released or scheduled again); InvalidTransition when no embargo
    may be set at all (live, retracted, rejected, expired)."""
    if status not in EMBARGOABLE:
        raise InvalidTransition(status, "schedule")
    return status in RELEASED


def check_restore(status: str) -> None:
    """Only an expired (archived) item is restored."""
    if status != "expired":
        raise InvalidTransition(status, "restore")


def restore_action(previous_status: str) -> str:
    """What the channels are told when an archived item comes back: a retracted item stays
    taken down (its retraction is shown again), anything else is published again."""
    return "retract" if previous_status == "retracted" else "publish"


def review_applies(status: str, current_revision: int, reviewed_revision: int) -> bool:
    """A review outcome applies only to an item still in review at the reviewed revision."""
    return status == "in_review" and current_revision == reviewed_revision


def delivery_applies(action: str, status: str) -> bool:
    """Whether a queued delivery of `action` still applies to an item in `status`."""
    return status in DELIVERY_APPLIES[action]


def is_first_publication(action: str, status: str) -> bool:
    """A successful `publish` delivery of an item not yet live makes it published."""
    return action == "publish" and status in RELEASED


def expiry_reason(time_sensitive: bool) -> str:
    """Why the sweep archived an item (kept on its archive row)."""
    return ("time-sensitive item past its validity" if time_sensitive
            else "past its column's maximum age")


def after_approval(publish_at: datetime | None, now: datetime) -> str:
    """`scheduled` when an embargo holds the item until later, else `approved` (released now)."""
    return "scheduled" if publish_at is not None and publish_at > now else "approved"


# --- publication queue -------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 2.0
    max_seconds: float = 600.0

    def delay(self, attempts: int) -> timedelta:
        """Wait before the next try after `attempts` failures: exponential, capped."""
        seconds = self.base_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_seconds))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


def after_failure(policy: RetryPolicy, attempts: int, now: datetime
                  ) -> tuple[str, datetime | None]:
    """(delivery status, next attempt) after the `attempts`-th failed try."""
    if policy.gives_up(attempts):
        return "failed", None
    return "pending", now + policy.delay(attempts)


# --- expiry --------------------------------------------------------------------------------


def expires_at(published_at: datetime, max_age_days: int, *, time_sensitive: bool = False,
               time_sensitive_days: int | None = None, valid_until: datetime | None = None
               ) -> datetime:
    """When a published item becomes outdated: its column's maximum age, shortened for items
    marked time-sensitive and by an explicit `valid_until`."""
    limits = [published_at + timedelta(days=max_age_days)]
    if time_sensitive and time_sensitive_days is not None:
        limits.append(published_at + timedelta(days=time_sensitive_days))
    if valid_until is not None:
        limits.append(valid_until)
    return min(limits)


def sweep_step(status: str, expires: datetime | None, notified_at: datetime | None,
               grace: timedelta, now: datetime) -> str | None:
    """What the sweep does to one item: `notify` the owner once it is outdated, `expire` it once
    the grace period after the notice has passed, or nothing."""
    if status not in EXPIRABLE or expires is None or expires > now:
        return None
    if notified_at is None:
        return "notify"
    return "expire" if notified_at + grace <= now else None


# --- publicity plan and comments -----------------------------------------------------------


def plan_entry_state(due_on: date, item_status: str | None, today: date) -> str:
    """`done` once its item is live (or was), `late` past its due day, else `planned`."""
    if item_status in WAS_LIVE:
        return "done"
    return "late" if due_on < today else "planned"


def reply_due(received_at: datetime, reply_hours: float) -> datetime:
    return received_at + timedelta(hours=reply_hours)


def month_of(value: str) -> tuple[int, int]:
    """`YYYY-MM` → (year, month), or ValueError."""
    year, month = value.split("-")
    if len(year) != 4 or len(month) != 2 or not 1 <= int(month) <= 12:
        raise ValueError(f"not a month: {value!r}")
    return int(year), int(month)


# --- who may do what (staff roles come from the review service's accounts) -----------------

STAFF_ROLES = ("editor", "section_head", "leader_in_charge", "principal", "admin")
SENIOR_ROLES = frozenset({"section_head", "leader_in_charge", "principal", "admin"})
# Everyday desk work: any staff member.
DESK_ACTIONS = ("create", "edit", "submit", "plan", "stats", "comments", "reply")
# Changing what is (or will be) live, or how long it stays: section_head or above, or admin.
SENIOR_ACTIONS = ("correct", "retract", "restore", "embargo", "override_expiry")
PERMISSIONS: dict[str, frozenset[str]] = {
    **{action: frozenset(STAFF_ROLES) for action in DESK_ACTIONS},
    **{action: SENIOR_ROLES for action in SENIOR_ACTIONS},
    "records": frozenset({"admin"}),  # GET /records: the period's raw records, for reports
}


def may(role: str | None, action: str) -> bool:
    """Whether a staff member with `role` may perform `action` (an unknown action: nobody)."""
    return role is not None and role in PERMISSIONS.get(action, frozenset())


def create_actions(data: dict[str, object]) -> tuple[str, ...]:
    """What creating an item with this body amounts to: an embargo (`publish_at`) or an explicit
    expiry (`valid_until`) on a new item need the same role as setting them later."""
    extra = (("embargo",) if data.get("publish_at") is not None else ()) + (
        ("override_expiry",) if data.get("valid_until") is not None else ())
    return ("create", *extra)
