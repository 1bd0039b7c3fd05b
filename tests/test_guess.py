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
