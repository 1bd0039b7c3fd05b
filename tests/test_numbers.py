"""The one number checker, parser and printer that every page's input goes through."""
import math

import numpy as np
import pytest

from models.core.numbers import check_number, format_number, parse_number


@pytest.mark.parametrize("text, expected", [
    ("2e3", 2000.0), ("1,5", 1.5), ("-0.25", -0.25), ("\u22122", -2.0), (" 1e7 ", 1e7), ("1E-3", 0.001),
    (".5", 0.5), ("3.", 3.0), ("+4", 4.0), ("1 000", 1000.0), ("1e308", 1e308)])
def test_parse_reads_what_students_type(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text, phrase", [
    ("1e309", "too large"), ("9" * 400, "far too long"), ("9" * 5001, "far too long"), ("abc", "is not a number"),
    ("", "empty"), ("1,5,3", "is not a number"), ("nan", "is not a number"), ("inf", "is not a number"),
    ("0x10", "is not a number"), ("1.2.3", "is not a number")])
def test_parse_refuses_with_a_message(text, phrase):
    with pytest.raises(ValueError, match=phrase):
        parse_number(text, "Cell (1, 1)")


def test_huge_integers_get_a_message_not_an_overflow():
    with pytest.raises(ValueError, match="too large"):
        check_number(10**400, "A weight", low=-1e6, high=1e6)
    with pytest.raises(ValueError, match="about 500[01] digits"):
        check_number(10**5000, "A weight", low=-1e6, high=1e6)


@pytest.mark.parametrize("value", [True, None, "1", float("nan"), float("inf"), [1]])
def test_check_refuses_non_numbers(value):
    with pytest.raises(ValueError, match="must be a number"):
        check_number(value, "The rate")


def test_check_ranges_and_integers():
    assert check_number(np.float32(0.5), "x", low=0, high=1) == 0.5
    assert check_number(np.int64(3), "n", low=1, high=5, integer=True) == 3
    assert isinstance(check_number(3.0, "n", integer=True), int)
    with pytest.raises(ValueError, match="whole number between 1 and 5; got 2.5"):
        check_number(2.5, "n", low=1, high=5, integer=True)
    with pytest.raises(ValueError, match="above 0; got 0"):
        check_number(0, "The learning rate", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"between -1,000,000 and 1,000,000; got 1000001\."):
        check_number(1000001, "Weight", low=-1e6, high=1e6)


@pytest.mark.parametrize("value, text", [
    (1e300, "1.000e+300"), (-3.2e-9, "-3.200e-09"), (0.1054, "0.1054"), (-4.5e-40, "-4.500e-40"),
    (-0.00001, "-1.000e-05"), (0.0, "0.0000"), (math.inf, "∞"), (2.5, "2.5000")])
def test_format_is_readable(value, text):
    assert format_number(value) == text


def test_format_never_prints_negative_zero():
    assert format_number(-0.0) == "0.0000"
    assert format_number(-1e-5, digits=6) == "-0.000010"


def test_json_numbers_keep_their_text_and_never_overflow():
    import json

    from models.core.numbers import check_value, json_number, shown

    values = json.loads(f'[1000001, 1e400, {"9" * 400}, {"9" * 5001}]', parse_int=json_number,
                        parse_float=json_number)
    assert [shown(v) for v in values] == ["1000001", "1e400", "a number of 400 digits", "a number of 5001 digits"]
    for value in values:
        with pytest.raises(ValueError, match=r"^Weight: .* is too large; keep numbers between -1,000,000 and 1,"):
            check_value(value, "Weight", low=-1e6, high=1e6)


@pytest.mark.parametrize("value, message", [
    (None, "Cell is empty."), ("abc", "Cell: 'abc' is not a number."), ("0.2", "Cell: '0.2' is text"),
    (True, "Cell: true is not a number."), (float("nan"), "Cell is empty or not a number (NaN)."),
    (float("inf"), "Cell: inf is infinite"), (10**400, "an integer of about 401 digits is too large"),
    (-2e6, "Cell: -2000000.0 is too small; keep numbers between -1,000,000 and 1,000,000.")])
def test_check_value_names_the_place(value, message):
    from models.core.numbers import check_value

    with pytest.raises(ValueError) as caught:
        check_value(value, "Cell", low=-1e6, high=1e6)
    assert message in str(caught.value)


def test_interval_wording():
    with pytest.raises(ValueError, match=r"must be a number in \[0, 1\]; got 1.5"):
        check_number(1.5, "The slope", low=0, high=1, interval=True)


@pytest.mark.parametrize("value, text", [
    (1.3, "1.3"), (0.9025384, "0.902538"), (1e308, "1e+308"), (-3.7200759760208356e-42, "-3.72008e-42"),
    (-0.0, "0"), (-math.inf, "−∞"), (2.0, "2")])
def test_format_significant_digits(value, text):
    assert format_number(value, 6, significant=True) == text
