"""News rules, pure: the content lifecycle, content hashes and the statement template.

Lifecycle of a content item:

    draft --submit--> in_review --approve--> approved --publish--> published
                      in_review --return---> draft      (revise, then submit again)
                      in_review --reject---> rejected   (final)

Only the approved revision (the one whose content hash the review approved) can be published.
"""

from __future__ import annotations

import hashlib
from datetime import date

KINDS = ("article", "video", "notice", "statement", "journal_issue")
STATUSES = ("draft", "in_review", "approved", "published", "rejected")
WORKFLOWS = ("default", "expedited")

TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {"draft": "in_review"},
    "approve": {"in_review": "approved"},
    "publish": {"approved": "published"},
    "return": {"in_review": "draft"},
    "reject": {"in_review": "rejected"},
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


def check_revise(status: str) -> None:
    """Only a draft gets new revisions (content under review or approved is frozen)."""
    if status != "draft":
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
