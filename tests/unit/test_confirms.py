"""Publisher confirms tracked per delivery tag (ConfirmTracker): out-of-order acks, `multiple`
acks and nacks over ranges, a nack failing exactly its batch."""

from civicpulse.publishing import ConfirmTracker


def tracker(*batches: tuple[int, int]) -> ConfirmTracker:
    t = ConfirmTracker()
    for first, last in batches:
        t.add(first, last)
    return t


def test_a_later_tag_acked_first_does_not_confirm_an_earlier_batch() -> None:
    t = tracker((1, 3), (4, 6))
    t.ack(5, multiple=False)  # e.g. an unroutable message, confirmed at once
    assert t.state(3) == "pending" and t.state(6) == "pending"
    t.ack(4, multiple=False)
    t.ack(6, multiple=False)
    assert t.state(6) == "acked" and t.state(3) == "pending"
    t.nack(2, multiple=True)  # tags 1..2 refused; 3 still unconfirmed
    assert t.state(3) == "nacked" and t.state(6) == "acked"


def test_a_multiple_ack_covers_a_range_across_batches() -> None:
    t = tracker((1, 3), (4, 6), (7, 9))
    t.ack(5, multiple=True)
    assert (t.state(3), t.state(6), t.state(9)) == ("acked", "pending", "pending")
    assert t.unconfirmed(6) == 1
    t.ack(9, multiple=True)
    assert (t.state(6), t.state(9)) == ("acked", "acked")


def test_a_nack_fails_exactly_its_batch() -> None:
    t = tracker((1, 3), (4, 6), (7, 9))
    t.ack(3, multiple=True)
    t.nack(8, multiple=False)
    t.ack(9, multiple=True)  # covers 4..7 and 9, not the nacked 8
    assert (t.state(3), t.state(6), t.state(9)) == ("acked", "acked", "nacked")


def test_a_multiple_nack_spares_tags_already_acked() -> None:
    t = tracker((1, 2), (3, 4))
    t.ack(1, multiple=False)
    t.ack(2, multiple=False)
    t.ack(3, multiple=False)
    t.nack(4, multiple=True)  # only 4 was still unconfirmed
    assert (t.state(2), t.state(4)) == ("acked", "nacked")


def test_forgotten_batches_ignore_late_confirms() -> None:
    t = tracker((1, 2))
    t.ack(2, multiple=True)
    assert t.forget(2).waiting == set()
    t.add(3, 3)
    t.ack(2, multiple=True)  # a stale confirm settles nothing new
    assert t.state(3) == "pending"
