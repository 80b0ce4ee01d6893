"""Links: the explorer's state to query parameters and back, and what a bad or stale link becomes."""

from __future__ import annotations

import pytest

from explorer.state.url import LinkState, code_text, link_params, parse_code, parse_link

MODELS = ["vae_d20", "vae_d2", "ae_d20"]
DEFAULTS = LinkState(model="vae_d20", code=(0.0,) * 3, a=0, b=1, k=10, seed=0, temperature=1.0)


def test_a_state_round_trips_through_its_parameters():
    state = LinkState(
        model="vae_d2",
        code=(0.5, -1.25, 3.0),
        a=7,
        b=42,
        k=12,
        seed=123,
        count=64,
        temperature=1.5,
        pick=9,
        plane=(1.5, -0.25),
        epoch=3,
    )
    params = link_params(state, DEFAULTS)
    assert params == {
        "model": "vae_d2",
        "z": "0.5,-1.25,3",
        "a": "7",
        "b": "42",
        "k": "12",
        "seed": "123",
        "n": "64",
        "T": "1.5",
        "pick": "9",
        "p": "1.5,-0.25",
        "epoch": "3",
    }
    back = parse_link(params, MODELS)
    assert back == state and back.notes == ()


def test_defaults_leave_the_address_plain():
    assert link_params(DEFAULTS, DEFAULTS) == {}
    assert link_params(LinkState(), DEFAULTS) == {}
    assert parse_link({}, MODELS) == LinkState()


def test_codes_keep_four_decimals_and_no_negative_zero():
    assert code_text([0.123456, -0.00001, -2.5, 10.0]) == "0.1235,0,-2.5,10"
    assert parse_code("0.1235,0,-2.5,10") == (0.1235, 0.0, -2.5, 10.0)
    assert parse_code("8.5,-7.25") == (8.5, -7.25)  # beyond the sliders' range is kept: shown as such


@pytest.mark.parametrize(
    ("params", "dropped"),
    [
        ({"model": "nope"}, "model"),
        ({"z": "1,two,3"}, "z"),
        ({"z": "1,nan"}, "z"),
        ({"z": ""}, "z"),
        ({"z": "1e9,0"}, "z"),
        ({"a": "10000"}, "a"),
        ({"b": "-1"}, "b"),
        ({"pick": "x"}, "pick"),
        ({"k": "0"}, "k"),
        ({"k": "31"}, "k"),
        ({"seed": "1000000"}, "seed"),
        ({"T": "3"}, "T"),
        ({"T": "inf"}, "T"),
        ({"epoch": "-1"}, "epoch"),
        ({"n": "65"}, "n"),
        ({"n": "0"}, "n"),
        ({"p": "1,2,3"}, "p"),
        ({"p": "x,1"}, "p"),
        ({"epoch": "two"}, "epoch"),
    ],
)
def test_a_bad_value_is_dropped_with_a_note_and_the_rest_kept(params, dropped):
    state = parse_link({**params, "a": params.get("a", "5")} if dropped != "a" else params, MODELS)
    assert len(state.notes) == 1 and state.notes[0].startswith(f"{dropped}=")
    assert getattr(state, {"z": "code", "T": "temperature", "n": "count", "p": "plane"}.get(dropped, dropped)) is None
    if dropped != "a":
        assert state.a == 5


def test_temperature_snaps_to_the_sliders_step():
    assert parse_link({"T": "1.52"}, MODELS).temperature == 1.5
