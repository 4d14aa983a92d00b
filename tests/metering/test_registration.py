"""DTU registration matchers and the heartbeat/prefix stream filter."""

from __future__ import annotations

import pytest
import voluptuous as vol
from hypothesis import given
from hypothesis import strategies as st

from hub.metering.registration import (
    NEED_MORE,
    REGISTER_SCHEMA,
    Match,
    Registration,
    SecretFormat,
    StreamFilter,
)

IMEI = b"861234567890123"


def test_known_ids_prefer_the_longest_and_wait_for_more() -> None:
    registration = Registration(["known"])
    assert registration.match(b"DTU-10\x68\x01", ["DTU-1", "DTU-10"]) == Match(
        "DTU-10", b"DTU-10")
    assert registration.match(b"DTU-", ["DTU-1"]) == NEED_MORE
    assert registration.match(b"XYZ", ["DTU-1"]) is None


def test_imei_iccid_hex_regex_and_string() -> None:
    registration = Registration(["imei", "iccid", {"hex": "7E 01 ?? ??"},
                                 {"regex": "^ID:(\\w+);"}, {"string": "GW-7"}])
    assert registration.match(IMEI + b"\x68", []) == Match(IMEI.decode(), IMEI)
    assert registration.match(IMEI[:9], []) == NEED_MORE
    iccid = b"89860A12345678901234"
    assert registration.match(iccid, []) == Match(iccid.decode(), iccid)
    assert registration.match(b"\x7e\x01\xab\xcd\x68", []) == Match("7E01ABCD",
                                                                   b"\x7e\x01\xab\xcd")
    assert registration.match(b"\x7e\x01", []) == NEED_MORE
    assert registration.match(b"ID:box9;rest", []) == Match("box9", b"ID:box9;")
    assert registration.match(b"GW-7", []) == Match("GW-7", b"GW-7")


def test_garbage_is_no_registration_once_long_enough() -> None:
    registration = Registration(["imei", {"regex": "ID:(\\w+);"}])
    assert registration.match(b"\x00" * 300, []) is None


def test_schema_explains_bad_matchers() -> None:
    assert REGISTER_SCHEMA({})["match"] == ["known", "imei", "iccid"]
    with pytest.raises(vol.Invalid, match="hex bytes"):
        REGISTER_SCHEMA({"match": [{"hex": "7E0"}]})
    with pytest.raises(vol.Invalid, match="regular expression"):
        REGISTER_SCHEMA({"match": [{"regex": "("}]})
    with pytest.raises(vol.Invalid, match="expected known, imei, iccid"):
        REGISTER_SCHEMA({"match": ["mac"]})
    with pytest.raises(vol.Invalid, match="once, prefix, both"):
        REGISTER_SCHEMA({"mode": "always"})


def test_filter_removes_prefixes_and_heartbeats_split_across_reads() -> None:
    stream = StreamFilter(heartbeat=b"ping", prefix=IMEI)
    out = stream.feed(IMEI + b"\x68\x01" + b"pi")
    assert out == b"\x68\x01" and stream.holding
    out += stream.feed(b"ng" + IMEI[:5])
    out += stream.feed(IMEI[5:] + b"\x16")
    assert out == b"\x68\x01\x16"
    assert (stream.heartbeats, stream.prefixes) == (1, 2)


def test_a_held_partial_token_is_given_back() -> None:
    stream = StreamFilter(heartbeat=b"ping")
    assert stream.feed(b"\x68\x16pi") == b"\x68\x16"
    assert stream.flush() == b"pi" and not stream.holding


def test_a_short_heartbeat_only_counts_when_alone() -> None:
    stream = StreamFilter(heartbeat=b"\xfe")
    assert stream.feed(b"\xfe\xfe") == b""
    assert stream.heartbeats == 2
    assert stream.feed(b"\x68\xfe\x16") == b"\x68\xfe\x16"  # an FE inside a frame stays


@given(st.lists(st.sampled_from([b"ping", IMEI, b"\x68\x01\x02", b"\x16", b"p", b"8612"]),
                max_size=12),
       st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=30))
def test_filter_output_does_not_depend_on_how_the_stream_is_cut(parts: list[bytes],
                                                                 cuts: list[int]) -> None:
    data = b"".join(parts)
    whole = StreamFilter(heartbeat=b"ping", prefix=IMEI)
    expected = whole.feed(data) + whole.flush()
    pieces = StreamFilter(heartbeat=b"ping", prefix=IMEI)
    out = b""
    position = 0
    index = 0
    while position < len(data):
        size = cuts[index % len(cuts)]
        out += pieces.feed(data[position:position + size])
        position += size
        index += 1
    out += pieces.flush()
    assert out == expected
    assert b"ping" not in out and IMEI not in out
    assert out.count(b"\x68\x01\x02") == parts.count(b"\x68\x01\x02")


def test_a_short_id_is_only_stripped_in_prefix_mode() -> None:
    short = Match("h", b"h")  # 0x68: also the first byte of every DL/T 645 frame
    assert Registration(["known"], "once").stream_prefix(short) == b""
    assert Registration(["known"], "prefix").stream_prefix(short) == b"h"
    assert Registration(["imei"], "once").stream_prefix(Match("x", IMEI)) == IMEI


def test_a_secret_follows_the_id_and_is_judged_by_length_before_content() -> None:
    fmt = SecretFormat(REGISTER_SCHEMA({"secret_format": "{id}#{secret};"})["secret_format"])
    match = Match("861234567890123", IMEI)
    assert fmt.check(IMEI + b"#s3cret;\x68", match, "s3cret") == Match(
        "861234567890123", IMEI + b"#s3cret;")
    assert fmt.check(IMEI + b"#s3cr", match, "s3cret") == NEED_MORE
    assert fmt.check(IMEI + b"#zzzz", match, "s3cret") == NEED_MORE  # wrong, but short
    assert fmt.check(IMEI + b"#s3creT;", match, "s3cret") is None
    assert fmt.check(IMEI + b"s3cret;", match, "s3cret") in (None, NEED_MORE)
    for bad in ("{secret},{id}", "{id}", "{id},{secret}{secret}", "x{id},{secret}"):
        with pytest.raises(vol.Invalid, match="starting with"):
            REGISTER_SCHEMA({"secret_format": bad})
