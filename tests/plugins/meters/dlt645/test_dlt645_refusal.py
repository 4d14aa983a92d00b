"""The text of a refusal names each ERR bit once, with the error word."""

from __future__ import annotations

import pytest
from dlt645_support import METER

from hub.metering.model import MeterRefused
from meterhub_dlt645.codec import decode_frame, encode_frame
from meterhub_dlt645.const import ERROR_BITS
from meterhub_dlt645.models import refusal

WORDS = [bit for bit, _en, _zh in ERROR_BITS] + [0x05, 0x03, 0xFF]


@pytest.mark.parametrize("word", WORDS)
def test_a_refusal_names_each_error_bit_once(word: int) -> None:
    err = refusal(decode_frame(encode_frame(METER, 0xDC, bytes((word,)))), "relay control")
    names = [en for bit, en, _zh in ERROR_BITS if word & bit]
    assert err.reasons == names and err.code == f"ERR {word:02X}"
    assert err.summary == f"{'; '.join(names)} (ERR {word:02X})"
    assert str(err) == f"meter {METER} refused relay control: {err.summary}"
    for name in names:
        assert str(err).count(name) == 1 and err.summary.count(name) == 1
    assert f"meter refused: {err.summary}" != f"meter refused: {err}"


def test_the_summary_of_other_refusals() -> None:
    assert MeterRefused("slave 1 refused read", ["illegal data address"]).summary == (
        "illegal data address")
    assert MeterRefused("valve refused", ["valve refused", "valve refused"]).summary == (
        "valve refused")
    assert MeterRefused("no reasons given").summary == "no reasons given"
    zero = refusal(decode_frame(encode_frame(METER, 0xD1, b"\x00")), "read")
    assert zero.summary == "error word 00 (no reason given) (ERR 00)"
