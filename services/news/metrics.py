"""News service metrics (`civicpulse_news_*`)."""

from prometheus_client import Counter, Gauge, Histogram

items_published = Counter("civicpulse_news_items_published_total",
                          "Content items published (first success per item), by channel",
                          ["channel"])
items_submitted = Counter("civicpulse_news_items_submitted_total",
                          "Content revisions submitted for review, by workflow", ["workflow"])
publication_attempts = Counter(
    "civicpulse_news_publication_attempts_total",
    "Channel delivery attempts, by channel and outcome (success, failure, gave_up)",
    ["channel", "outcome"])
publication_queue = Gauge("civicpulse_news_publication_queue_depth",
                          "Deliveries waiting in the publication queue, by channel", ["channel"])
channel_failing = Gauge(
    "civicpulse_news_channel_failing_seconds",
    "How long a channel has been failing: since the oldest delivery that failed after its last "
    "success (0: its latest deliveries succeed)", ["channel"])
items_expired = Counter("civicpulse_news_items_expired_total",
                        "Items expired and archived by the sweep")
expiry_notices = Counter("civicpulse_news_expiry_notices_total",
                         "Owners notified that an item is outdated")
comments_awaiting = Gauge("civicpulse_news_comments_awaiting_reply",
                          "Public comments awaiting a reply, by channel", ["channel"])
comments_overdue = Gauge("civicpulse_news_comments_overdue",
                         "Public comments past their reply deadline without a reply, by channel",
                         ["channel"])
comment_reply_seconds = Histogram(
    "civicpulse_news_comment_reply_seconds", "Time from a public comment to its reply",
    buckets=(600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 7 * 86400))
