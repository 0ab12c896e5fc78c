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
    "read": "已标为已读。",
}


def api_error(status: int) -> str:
    return API_ERROR.get(status, API_ERROR_DEFAULT if status >= 500 else API_ERROR[400])


# --- 审核, 发布, 舆情, 管理 (console-pages) -------------------------------------------------

CLOSED_AS = {"approved": "通过", "returned": "退回", "rejected": "否决"}
CASE_STATUS = {"open": "审核中", "approved": "已通过", "returned": "已退回", "rejected": "已否决"}
WORKFLOW = {"default": "常规", "expedited": "加急"}
KIND = {"article": "新闻", "video": "视频", "notice": "通知公告", "statement": "情况说明",
        "journal_issue": "刊物"}
CHECKLIST = {"accuracy": "内容准确", "orientation": "导向正确", "format": "格式规范"}
DECISION = {"approve": "通过", "return": "退回修改", "reject": "否决"}
FINDING_RULE = {"lexicon": "词表", "required_field": "必填项", "title_length": "标题长度",
                "malformed_link": "链接格式", "image_alt": "图片替代文字",
                "outdated_reference": "过时表述"}
FINDING_SEVERITY = {"blocking": "阻断", "warning": "提示"}
ACTOR = {"precheck": "自动预检", "deadline": "时限监控", "liaison-desk": "联合处置值班"}
AUDIT_ACTION = {"submitted": "提交审核", "prechecked": "自动预检", "approve": "通过",
                "return": "退回修改", "reject": "否决", "approval_carried": "沿用前次通过",
                "overdue": "超时上报"}
AUDIT_PRECHECKED = "阻断 {blocking} 项，提示 {warning} 项"
AUDIT_CHECKED = "核对：{items}"
AUDIT_ESCALATED = "已上报：{names}"
AUDIT_CARRIED = "沿用第 {revision} 稿的通过意见"
AUDIT_RESUMED = "退回后重新提交，从退回的阶段继续"
REVIEW_REFUSED = {
    "out_of_turn": "不能越级审批：本稿当前处于「{stage}」阶段，须由{role}审核（您是{mine}）。",
    "own_item": "稿件作者不能审核自己的稿件。",
    "co_author": "参与撰写本稿任一版本者不能审核本稿。",
    "two_stages": "同一人不能通过同一审核的两个阶段。",
    "needs_comment": "退回或否决须填写意见。",
    "checklist": "通过前须逐项核对：内容准确、导向正确、格式规范。",
    "closed": "本审核已{status}，不能再作决定。",
    "raced": "本阶段刚由他人作出决定，请刷新后查看。",
    "blocked": "自动预检发现阻断性问题，不能通过；可退回修改或否决。",
}
CHANNEL = {"website": "门户网站", "wechat": "微信公众号", "weibo": "微博", "journal": "刊物",
           "webhook": "数据推送（Webhook）"}
DOCUMENT_FIELD = {"title": "标题", "action": "动作", "kind": "体裁", "column": "栏目",
                  "revision": "稿次", "reference_no": "审批编号", "published_at": "发布日期",
                  "url": "网址", "notes": "更正 / 撤回说明", "body": "正文"}
ITEM_STATUS = {"draft": "草稿", "in_review": "审核中", "approved": "已通过",
               "scheduled": "定时待发", "published": "已发布", "corrected": "已更正",
               "retracted": "已撤回", "rejected": "已否决", "expired": "已过期归档"}
DELIVERY_STATUS = {"pending": "排队 / 重试中", "sent": "已送达", "failed": "已放弃",
                   "cancelled": "已取消"}
DELIVERY_ACTION = {"publish": "发布", "correct": "更正", "retract": "撤回", "expire": "过期下线"}
PLAN_STATE = {"done": "已完成", "late": "已逾期", "planned": "计划中"}
COMMENT_STATE = {"awaiting": "待回复", "overdue": "已超时", "replied": "已回复"}
INCIDENT_STATUS = {"detected": "新发现", "escalated": "已升级", "subsiding": "趋缓",
                   "closed": "已结束"}
INCIDENT_EVENT = {"detected": "发现", "escalated": "升级", "subsided": "趋缓", "closed": "结束"}
AGENCY_KIND = {"propaganda": "宣传部门", "cyberspace": "网信部门", "media": "媒体",
               "section": "内部处室"}
NOTIFY_TARGET = {"leader_in_charge": "分管领导", "partner_lead": "合作机构牵头人"}
PLAN_ASSIGNEE = {"lead": "牵头处室"}

DONE.update({
    "approve": "已通过本阶段审核。",
    "return": "已退回修改。",
    "reject": "已否决。",
    "item_created": "稿件已创建。",
    "revised": "已保存为新稿次。",
    "submitted": "已提交审核。",
    "embargo_set": "定时发布已设置。",
    "corrected": "更正已发出。",
    "retracted": "已撤回。",
    "replied": "回复已发送。",
    "theme_added": "宣传主题已新增。",
    "entry_added": "计划条目已新增。",
})
INCIDENT_OUTCOME = {"closed": "已结束", "subsiding": "趋缓", "open": "处置中"}
CHANNEL.update({"weibo_comment": "本机关微博评论", "wechat_comment": "本机关微信公众号留言",
                "deputy_mailbox": "代表信箱", "opinion_solicitation": "民意征集",
                "news": "新闻网站", "forum": "论坛", "web": "其他网页", "feed": "订阅源",
                "monitor": "舆情监测导出"})
SIGN_IN_OUTCOME = {"ok": "成功", "bad_credentials": "用户名或密码错误", "locked": "已锁定",
                   "disabled": "账号已停用"}
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
    "review.case.opened": "待审稿件", "review.stage.approved": "审核通过一级",
    "review.case.approved": "审核通过", "review.case.returned": "退回修改",
    "review.case.rejected": "审核否决", "review.stage.overdue": "审核超时",
    "news.delivery.failed": "发布失败", "news.item.published": "已发布",
    "news.comment.overdue": "留言逾期未复",
}
PARTICIPANT_ROLE = {"commander": "指挥", "liaison_officer": "联络员", "scribe": "记录员",
                    "partner_observer": "合作机构", "lead": "牵头"}
TASK_STATUS = {"todo": "待办", "doing": "进行中", "done": "已完成", "cancelled": "已取消"}
# Payload fields a partner may see in a shared event, in the order shown, with their names.
EVENT_FIELDS = {"title": "标题", "summary": "摘要", "text": "内容", "level": "级别",
                "status": "状态", "topic": "话题", "starts_at": "开始时间", "url": "链接",
                "headline": "标题", "channels": "渠道"}
