import pytest

from models.core.guess import grade_choice, grade_number


def test_grade_number_verdicts_and_direction():
    near = grade_number(0.70, 0.7311, close_within=0.1)
    assert near.verdict == "close" and near.error == pytest.approx(0.70 - 0.7311)
    assert "too low" in near.message and "0.0311" in near.message
    assert grade_number(0.73, 0.7311, close_within=0.1).verdict == "spot on"
    far = grade_number(0.2, 0.7311, close_within=0.1)
    assert far.verdict == "off" and "too low" in far.message
    assert "too high" in grade_number(0.9, 0.7311, close_within=0.1).message


def test_grade_number_rejects_non_finite():
    with pytest.raises(ValueError):
        grade_number(float("nan"), 0.5, close_within=0.1)


def test_grade_choice():
    assert grade_choice("cat", "cat").verdict == "spot on"
    wrong = grade_choice("dog", "cat")
    assert wrong.verdict == "off" and "'cat'" in wrong.message


def test_huge_and_tiny_numbers_print_readably():
    message = grade_number(1e300, 0.5, close_within=0.1).message
    assert "1.000e+300" in message and len(message) < 120  # not a 300-digit number, twice


def test_a_difference_that_rounds_to_zero_is_never_printed_as_zero():
    message = grade_number(0.9028, 0.9025, close_within=0.1, digits=3).message
    assert "0.000 too" not in message and "spot on" in message
    assert "3.00e-04 too high" in message
    assert grade_number(0.5, 0.5, close_within=0.1).message == "You guessed 0.5000; the answer is 0.5000 (spot on)."
