"""Stock alerts as a state machine over checks, and what one check says about the fridge."""

from __future__ import annotations

from veilcam.config import StockConfig
from veilcam.durations import Duration
from veilcam.stock.analyse import FacingState
from veilcam.stock.catalogue import Facing, Product
from veilcam.stock.metrics import summarise
from veilcam.stock.rules import FridgeStock, Seen

CFG = StockConfig(
    empty_warning_after=Duration("30m"),
    empty_alarm_after=Duration("2h"),
    compliance_after=Duration("1h"),
)


def kinds(out):  # type: ignore[no-untyped-def]
    return [(t.rule, t.change, t.level) for t in out]


def test_an_empty_facing_warns_then_alarms_and_a_hand_does_not_reset_it() -> None:
    f = FridgeStock("fridge-1", CFG)
    full, empty, unseen = (
        Seen(1, "milk", "full"),
        Seen(1, "milk", "empty"),
        Seen(1, "milk", "unknown"),
    )
    assert f.accepted(0, [full], 1.0) == []
    assert f.accepted(600, [empty], 0.0) == []
    assert f.accepted(1800, [unseen], None) == []  # a hand in front: neither way
    assert kinds(f.accepted(2400, [empty], 0.0)) == [("facing_empty", "open", "warning")]
    assert kinds(f.accepted(600 + 7200, [empty], None)) == [("facing_empty", "level", "alarm")]
    out = f.accepted(9000, [full], 1.0)
    assert kinds(out) == [("facing_empty", "close", "alarm")]
    assert out[0].message.startswith("every facing restocked; lasted")


def test_low_compliance_warns_after_its_time() -> None:
    f = FridgeStock("fridge-1", CFG)
    seen = [Seen(1, "milk", "wrong_product")]
    assert f.accepted(0, seen, 0.5) == []
    assert kinds(f.accepted(3600, seen, 0.5)) == [("compliance_low", "open", "warning")]
    assert kinds(f.accepted(4000, seen, 0.9)) == [("compliance_low", "close", "warning")]


def test_rejected_stills_in_a_row_say_why() -> None:
    f = FridgeStock("fridge-1", CFG)
    assert f.rejected_still(0, "too dark") == []
    assert f.rejected_still(10, "too dark") == []
    (tr,) = f.rejected_still(20, "blurred")
    assert tr.rule == "stills_rejected" and "blurred" in tr.message
    assert kinds(f.accepted(30, [], None)) == [("stills_rejected", "close", "warning")]


def test_fill_compliance_share_of_shelf_and_purity() -> None:
    box = ((0.0, 0.0), (0.1, 0.0), (0.1, 0.1))
    facings = [
        Facing("f", 1, 1, "A", 2, box),
        Facing("f", 1, 2, "B", 2, box),
        Facing("f", 2, 1, "C", 4, box),
        Facing("f", 2, 2, "A", 2, box),
    ]
    products = {
        "A": Product("A", "a", "Acme"),
        "B": Product("B", "b", "Bolt"),
        "C": Product("C", "c", "Acme"),
        "X": Product("X", "x", "Grey", authorised=False),
    }
    states = [
        FacingState(0, "full", 1.0, 0.9, "A"),
        FacingState(1, "wrong_product", 1.0, 0.8, "X"),
        FacingState(2, "partial", 0.5, 0.7, "C"),
        FacingState(3, "unknown", None, 0.0),
    ]
    s = summarise(states, facings, products)
    assert s.seen == 3 and s.compliance == round(2 / 3, 4)
    assert s.fill == round(6 / 8, 4) and s.shelves == {1: 1.0, 2: 0.5}
    assert s.brands == {"Acme": round(4 / 6, 4), "Grey": round(2 / 6, 4)}
    assert s.purity == round(4 / 6, 4)
    assert s.counts == {"full": 1, "wrong_product": 1, "partial": 1, "unknown": 1}
