"""News's Chinese texts: the statement drafted for the liaison desk and the owners'
notifications. Use cases call these functions; no Chinese text is built anywhere else."""

from __future__ import annotations

from datetime import date, datetime

from services.news.domain import SERIOUS_LEVELS

OFFICE = "市人大常委会办公室"
STATEMENT_COLUMN = "权威发布"   # the column statements are published in
TOPIC_LABELS = {
    "legislation": "立法工作",
    "supervision": "监督工作",
    "deputies": "代表工作",
    "budget": "预算审查监督工作",
    "appointments": "人事任免工作",
    "office": "常委会机关工作",
}


def statement_title(title: str) -> str:
    """`关于…的情况说明`, unless the requested title already reads so."""
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


def public_statement_title(topic_name: str) -> str:
    """The title of a statement drafted from the incident's public facts."""
    return f"关于{topic_name}有关情况的说明"


def public_statement_body(*, topic_name: str, noticed_on: date | None, level: str,
                          on: date) -> str:
    """A statement for the public from the incident's public facts only (the topic's human
    name, when the discussion began), never the desk's internal brief, level or codes: what
    happened, what the office is doing, where to follow up."""
    when = f"{noticed_on.month}月{noticed_on.day}日以来" if noticed_on else "近日"
    lead = ("常委会主要负责同志高度重视，第一时间作出部署。" if level in SERIOUS_LEVELS
            else "我办高度重视，第一时间会同有关部门了解核实情况。")
    paragraphs = [
        f"{when}，社会各界对{topic_name}有关情况较为关注，网络上出现相关讨论。{lead}"
        "现将有关情况说明如下。",
        f"一、基本情况。我办已关注到网络上关于{topic_name}的讨论，正在会同有关部门全面了解、"
        "核实相关情况。",
        f"二、工作措施。我办已会同有关部门组成工作专班，依法依规、实事求是推进{topic_name}"
        "有关事项的核查处置。",
        f"三、信息发布。核查处置进展将通过{OFFICE}门户网站和官方微信公众号及时发布，"
        "欢迎社会各界监督。请以官方发布的信息为准，不信谣、不传谣。",
        f"{OFFICE}\n{on.year}年{on.month}月{on.day}日",
    ]
    return "\n\n".join(paragraphs)


def expiry_notice(title: str, expires_at: datetime, grace_until: datetime) -> str:
    """The owner's notification that an item is outdated and will be archived."""
    return (f"《{title}》已超过时效（{expires_at.date().isoformat()}），"
            f"将于{grace_until.date().isoformat()}过期归档；如需保留请更新或恢复。")
