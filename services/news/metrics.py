"""News service metrics (`civicpulse_news_*`)."""

from prometheus_client import Counter

items_published = Counter("civicpulse_news_items_published_total",
                          "Content items published, by channel", ["channel"])
items_submitted = Counter("civicpulse_news_items_submitted_total",
                          "Content revisions submitted for review, by workflow", ["workflow"])
