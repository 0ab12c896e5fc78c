"""`civicpulse status`, the pure parts: whose queue is it, the business figures from scraped
metrics, the table and the verdict."""

from civicpulse import status

METRICS = """
# TYPE civicpulse_liaison_tickets gauge
civicpulse_liaison_tickets{level="II",status="open"} 2.0
civicpulse_liaison_tickets{level="II",status="closed"} 5.0
civicpulse_liaison_tickets{level="IV",status="monitoring"} 1.0
# TYPE civicpulse_liaison_deadlines_overdue gauge
civicpulse_liaison_deadlines_overdue{deadline="acknowledge",level="II"} 1.0
civicpulse_liaison_deadlines_overdue{deadline="resolve",level="II"} 0.0
# TYPE civicpulse_sentiment_open_incidents gauge
civicpulse_sentiment_open_incidents{level="II"} 2.0
"""


def test_queues_belong_to_the_service_that_consumes_them() -> None:
    assert status.owner_of("evt-sentiment-sentiment.incident.detected--liaison.on_x") == "liaison"
    assert status.owner_of("rpc-review") == "review"
    assert status.owner_of("sentiment.mentions") == "sentiment"
    assert status.owner_of("partner.cac") is None
    assert status.owner_of("civicpulse.dlq.news") is None


def test_business_figures_come_from_the_scraped_gauges() -> None:
    found = status.samples(METRICS)
    assert status.by_label(found, "civicpulse_liaison_tickets", "level",
                           lambda labels: labels["status"] not in status.DONE) == {"II": 2,
                                                                                   "IV": 1}
    assert status.overdue_by_level(found) == {"II": {"acknowledge": 1}}
    assert status.by_label(found, "civicpulse_sentiment_open_incidents", "level") == {"II": 2}


def test_the_table_and_the_verdict() -> None:
    up = status.ServiceState("review", up=True, ready=True, outbox=0, dead_letters=3,
                             queues=[status.Queue("rpc-review", 2, 1)])
    down = status.ServiceState("notify")
    found = status.Status([up, down], [status.Queue("partner.cac", 7, 0)], {"II": 2},
                          {"II": 2}, {"II": {"acknowledge": 1}}, 0, [])
    lines = status.render(found).splitlines()
    assert lines[2].split() == ["review", "yes", "yes", "0", "3", "2", "1"]
    assert lines[3].split() == ["notify", "NO", "-", "-", "-", "-", "-"]
    assert ["partner.cac", "7", "0"] in [line.split() for line in lines]
    assert ["II", "2", "2", "acknowledge", "1"] in [line.split() for line in lines]
    assert not found.healthy
    found.services = [up]
    assert found.healthy
