"""Every Chinese word the console shows that is not in a template: labels of the services' codes,
error messages, the notices shown after an action (`?ok=<code>`)."""

from __future__ import annotations

STATUS = {"open": "待接收", "acknowledged": "已接收", "responding": "处置中",
          "monitoring": "观察中", "resolved": "已解决", "closed": "已关闭"}
LEVEL = {"I": "Ⅰ级（特别重大）", "II": "Ⅱ级（重大）", "III": "Ⅲ级（较大）", "IV": "Ⅳ级（一般）"}
LEVEL_SHORT = {"I": "Ⅰ级", "II": "Ⅱ级", "III": "Ⅲ级", "IV": "Ⅳ级"}
ROLE = {"editor": "编辑", "section_head": "处室负责人", "leader_in_charge": "分管领导",
        "principal": "主要领导", "admin": "系统管理员"}
STAGE = {"section_head": "处室负责人审核", "leader_in_charge": "分管领导审核",
         "principal": "主要领导签发"}
TLP = {"CLEAR": "TLP:CLEAR 公开", "GREEN": "TLP:GREEN 社群", "AMBER": "TLP:AMBER 有限",
       "RED": "TLP:RED 仅限内部"}
DEADLINE = {"acknowledge": "接收时限", "first_response": "首次回应时限", "resolve": "办结时限"}

SIGN_IN_REFUSED = {
    "bad_credentials": "用户名或密码错误。",
    "locked": "连续登录失败次数过多，账号已暂时锁定。",
    "disabled": "该账号已停用，请联系系统管理员。",
}
PARTNER_SIGN_IN_REFUSED = "机构凭证无效或已停用。"
LOCKED_RETRY = "请在 {minutes} 分钟后重试。"
SIGNED_OUT = "您已安全退出。"
SESSION_ENDED = "登录已过期或已在别处退出，请重新登录。"
CSRF_REFUSED = "表单已失效（安全校验未通过），请刷新页面后重试。"

API_ERROR = {
    0: "服务暂时无法访问，请稍后重试。",
    400: "提交的内容有误，请检查后重试。",
    401: SESSION_ENDED,
    403: "您没有执行此操作的权限。",
    404: "未找到该记录，或您无权查看。",
    409: "操作与当前状态冲突（可能已被他人处理），请刷新后重试。",
    413: "提交的内容过大。",
    503: "服务暂时无法访问，请稍后重试。",
}
API_ERROR_DEFAULT = "服务出错，请稍后重试。"
SERVICE = {"liaison": "联合处置", "news": "发布", "review": "审核", "sentiment": "舆情",
           "notify": "消息", "identity": "账号"}

# Notices after an action (the page is reloaded with ?ok=<code>).
DONE = {
    "acknowledged": "已确认接收。",
    "task_added": "任务已分派。",
    "task_done": "任务已标记完成。",
    "commented": "意见已发表。",
    "pinned": "已置顶。",
    "moved": "状态已变更。",
    "participant_added": "参与人已添加。",
    "agency_added": "已共享给该机构。",
    "meeting_added": "会议已安排。",
    "minutes_saved": "会议纪要已保存。",
    "lessons_saved": "复盘已保存。",
    "partner_ack": "已确认收到。",
    "partner_commented": "回复已提交。",
    "task_updated": "任务已更新。",
}


def api_error(status: int) -> str:
    return API_ERROR.get(status, API_ERROR_DEFAULT if status >= 500 else API_ERROR[400])

TIMELINE = {
    "ticket.opened": "立案", "ticket.acknowledged": "签收", "status.changed": "状态变更",
    "comment": "意见", "participant.assigned": "参与人", "agency.added": "共享机构",
    "task.added": "任务", "task.updated": "任务更新", "meeting.scheduled": "会议",
    "meeting.minutes": "会议纪要", "review.lessons": "复盘", "shared": "已共享",
    "withheld": "未共享（RED）", "deadline.escalated": "超时升级",
    "statement.requested": "口径请求",
    "statement.published": "口径发布", "incident.escalated": "舆情升级",
    "incident.subsided": "舆情回落", "partner.ack": "机构确认", "partner.comment": "机构回复",
    "news.item.submitted": "稿件送审", "review.case.opened": "进入审核",
    "review.stage.approved": "审核通过一级",
    "review.case.approved": "审核通过",
    "review.case.returned": "退回修改", "review.case.rejected": "审核否决",
    "review.stage.overdue": "审核超时",
}
EVENT = {
    "liaison.ticket.opened": "事件立案", "liaison.ticket.acknowledged": "事件签收",
    "liaison.ticket.escalated": "事件升级", "liaison.ticket.overdue": "事件超时",
    "liaison.ticket.resolved": "事件已解决", "liaison.ticket.closed": "事件关闭",
    "liaison.statement.requested": "口径请求", "liaison.statement.published": "口径发布",
    "liaison.meeting.scheduled": "联席会议", "liaison.task.assigned": "任务分派",
    "liaison.partner.commented": "机构回复", "liaison.deadline.near": "时限临近",
}
PARTICIPANT_ROLE = {"commander": "指挥", "liaison_officer": "联络员", "scribe": "记录员",
                    "partner_observer": "合作机构", "lead": "牵头"}
TASK_STATUS = {"todo": "待办", "doing": "进行中", "done": "已完成", "cancelled": "已取消"}
# Payload fields a partner may see in a shared event, in the order shown, with their names.
EVENT_FIELDS = {"title": "标题", "summary": "摘要", "text": "内容", "level": "级别",
                "status": "状态", "topic": "话题", "starts_at": "开始时间", "url": "链接",
                "headline": "标题", "channels": "渠道"}
