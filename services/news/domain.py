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
from dataclasses import dataclass
from datetime import date, datetime, timedelta

KINDS = ("article", "video", "notice", "statement", "journal_issue")
STATUSES = ("draft", "in_review", "approved", "scheduled", "published", "corrected",
            "retracted", "rejected", "expired")
WORKFLOWS = ("default", "expedited")
LIVE = ("published", "corrected")          # on the channels now
EXPIRABLE = ("published", "corrected", "retracted")
ACTIONS = ("publish", "correct", "retract", "expire")   # what a channel delivery does

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

OFFICE = "市人大常委会办公室"
TOPIC_LABELS = {
    "legislation": "立法工作",
    "supervision": "监督工作",
    "deputies": "代表工作",
    "budget": "预算审查监督工作",
    "appointments": "人事任免工作",
    "office": "常委会机关工作",
}
SERIOUS_LEVELS = ("I", "II")


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
    if item_status in ("published", "corrected", "retracted", "expired"):
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


# --- statements ----------------------------------------------------------------------------


def statement_title(title: str) -> str:
    title = title.strip()
    if title.startswith("关于") and title.endswith("情况说明"):
        return title
    return f"关于{title.removeprefix('关于').removesuffix('的')}的情况说明"


def statement_body(*, title: str, brief: str, topic: str, level: str, on: date) -> str:
    """A short authoritative statement drafted from the liaison desk's request."""
    area = TOPIC_LABELS.get(topic, topic)
    subject = title.strip().removeprefix("关于")
    lead = ("常委会主要负责同志高度重视，第一时间作出部署。" if level in SERIOUS_LEVELS
            else "我办高度重视，第一时间会同有关部门了解核实情况。")
    paragraphs = [
        f"近日，社会各界对{subject}有关情况较为关注。{lead}现将有关情况说明如下。",
        f"一、基本情况。{brief.strip()}",
        f"二、工作措施。我办已会同有关部门组成工作专班，依法依规、实事求是推进{area}有关事项的"
        "核查处置，有关情况将及时向社会公布。",
        "三、下一步工作。我们将持续关注事态进展，及时、准确发布权威信息，欢迎社会各界监督。"
        "请以官方发布的信息为准，不信谣、不传谣。",
        f"{OFFICE}\n{on.year}年{on.month}月{on.day}日",
    ]
    return "\n\n".join(paragraphs)


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
