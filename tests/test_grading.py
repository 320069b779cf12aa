"""Self-grading exercises (mas_lib.teach.grading): the reference answers quoted by the notebooks'
worked solutions are accepted, wrong ones refused with a hint, unanswered ones say so without
raising, and the digests never give the answer away."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mas_lib.teach import grading as g
from mas_lib.validation import ConfigError

# the numbers the hidden solution cells assert (a test may hold them; the student edition may not)
REFERENCES = {
    "00.1": [50, 40], "00.2": "requested_of_me [units]", "01.1": 555.0, "01.2": 495.0, "01.3": 25,
    "02.1": 110, "02.2": ["transport", "satisfaction"], "02.3": 15, "03.1": 141_000.0, "03.2": 0.08,
    "03.3": "France", "04.1": "GlobalTrees", "04.2": False, "04.3": -2.7, "04.4": 39.0, "05.1": 72.0,
    "05.3": 111.0, "06.1": 80, "06.2": 600.0, "06.4": 1.3, "06.5": 0.5, "07.1": 725.0, "07.2": 687.0,
    "07.3": ["fair_share"], "08.1": 0.933, "08.2": 60, "08.3": "yes", "09.1": 20e6 / (7_993_986 * 1936),
    "09.2": True, "09.3": 95.0, "09.4": "WeightsMismatchError",
}
WRONG = {
    "00.1": [40, 50], "00.2": "on_hand [units]", "01.1": 436.0, "01.2": 318.0, "01.3": 20, "02.1": 60,
    "02.2": ["satisfaction", "inventory", "transport"], "02.3": 25, "03.1": 100_000.0, "03.2": 0.186,
    "03.3": "Germany", "04.1": "Naive", "04.2": "yes", "04.3": -3.9, "04.4": 42.0, "05.1": 3.0,
    "05.3": 143.0, "06.1": 70, "06.2": 100.0, "06.4": 4.0, "06.5": 11.2, "07.1": 653.0, "07.2": 653.0,
    "07.3": ["fair_share", "proportional"], "08.1": 0.915, "08.2": 83, "08.3": "no", "09.1": 20.0,
    "09.2": "no", "09.3": 54.0, "09.4": "ValueError",
}


def test_every_graded_exercise_has_a_reference_here():
    graded = {k for k, e in g.EXERCISES.items() if e.kind != "discussion"}
    assert graded == set(REFERENCES) == set(WRONG)


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_the_reference_answer_is_correct_and_a_wrong_one_is_not(exercise):
    assert g.grade(exercise, REFERENCES[exercise]).status == "correct"
    verdict = g.grade(exercise, WRONG[exercise])
    assert verdict.status == "wrong" and f"Exercise {exercise}" in verdict.message
    assert "Hint:" in verdict.message and g.EXERCISES[exercise].expects in verdict.message


@pytest.mark.parametrize("exercise", sorted(g.EXERCISES))
@pytest.mark.parametrize("answer", [None, ...])
def test_unanswered_never_raises(exercise, answer, capsys):
    g.check(exercise, answer)
    out = capsys.readouterr().out
    assert f"Exercise {exercise}" in out
    if g.EXERCISES[exercise].kind == "discussion":
        assert "discussion" in out and g.EXERCISES[exercise].hint in out
    else:
        assert g.NOT_ANSWERED in out and g.EXERCISES[exercise].expects in out


def test_a_value_of_the_wrong_kind_is_wrong_not_an_exception():
    for exercise, answer in (("01.1", "555"), ("01.1", math.nan), ("04.2", 1), ("00.1", "fifty"), ("03.3", 3),
                             ("02.2", "satisfaction"), ("01.1", True)):
        verdict = g.grade(exercise, answer)
        assert verdict.status == "wrong" and "not the kind of value expected" in verdict.message, (exercise, answer)


def test_an_unknown_exercise_names_the_ones_that_exist():
    with pytest.raises(ConfigError, match=r"exercise = '05\.9' is not allowed; allowed: one of 00\.1, 00\.2"):
        g.grade("05.9", 1.0)


def test_the_table_stores_no_answer_in_plain_text():
    source = open(g.__file__).read()
    for exercise, answer in REFERENCES.items():
        if g.EXERCISES[exercise].kind == "text":
            assert answer not in source, exercise
    for e in g.EXERCISES.values():
        assert e.digest is None or len(e.digest) == 64


def test_text_answers_ignore_case_spacing_and_order():
    assert g.grade("03.3", "  france ").correct and g.grade("02.2", ("Transport", "satisfaction")).correct
    assert g.grade("04.2", "No").correct and not g.grade("04.2", "maybe").correct


def test_a_bad_exercise_definition_is_refused():
    with pytest.raises(ConfigError, match="kind = 'essay' is not allowed"):
        g.Exercise("99.1", "x", "y", kind="essay", digest="0" * 64)
    with pytest.raises(ConfigError, match="exactly one of digest and recompute"):
        g.Exercise("99.1", "x", "y")
    with pytest.raises(ConfigError, match="None for a discussion question"):
        g.Exercise("99.1", "x", "y", kind="discussion", digest="0" * 64)


@settings(max_examples=200, deadline=None)
@given(reference=st.floats(-1e6, 1e6), tolerance=st.floats(1e-3, 1e3), offset=st.floats(-1.0, 1.0))
def test_a_hashed_number_is_accepted_within_its_tolerance_and_refused_at_twice_it(reference, tolerance, offset):
    ex = g.Exercise("99.1", "a number", "none", tolerance=tolerance, digest=g.digest_of("99.1", "number", tolerance, reference))
    g.EXERCISES["99.1"] = ex
    try:
        near = reference + 0.999 * offset * tolerance
        far = reference + math.copysign(2.001 * tolerance, offset if offset else 1.0) * (1 + abs(offset))
        assert g.grade("99.1", near).correct
        assert not g.grade("99.1", far).correct
    finally:
        del g.EXERCISES["99.1"]


def test_the_salt_matters():
    assert g.digest_of("01.3", "number", 0.0, 25) != g.digest_of("01.4", "number", 0.0, 25)
