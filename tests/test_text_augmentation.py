"""EDA text augmentation: each operation does what it says, the seed fixes the result, bad text is refused."""
import random
from collections import Counter

import pytest

from models.images import text_augmentation as eda

SENTENCE = "the quick student found the difficult exercise really interesting and the quick teacher agreed"
WORDS = eda.words_of(SENTENCE)
SEEDS = range(40)


def is_subsequence(short: list[str], long: list[str]) -> bool:
    remaining = iter(long)
    return all(word in remaining for word in short)


def test_words_are_lower_case_without_punctuation():
    assert eda.words_of("Don't STOP!  It's 2 o'clock, café.") == ["don't", "stop", "it's", "2", "o'clock", "café"]
    assert len(WORDS) == 14


@pytest.mark.parametrize("n_words, alpha, expected", [(15, 0.1, 1), (15, 0.2, 3), (9, 0.1, 1), (40, 0.25, 10),
                                                      (3, 0.5, 1), (10, 0.5, 5)])
def test_changes_count_is_max_one_floor_alpha_times_length(n_words, alpha, expected):
    assert eda.changes_count(n_words, alpha) == expected


@pytest.mark.parametrize("method", list(eda.METHODS))
def test_same_seed_same_sentence_and_seeds_vary(method):
    results = [eda.augment_sentence(SENTENCE, method, alpha=0.2, seed=seed) for seed in SEEDS]
    assert results == [eda.augment_sentence(SENTENCE, method, alpha=0.2, seed=seed) for seed in SEEDS]
    assert len(set(results)) > 5


def test_synonym_replacement_only_swaps_words_for_listed_synonyms():
    n = eda.changes_count(len(WORDS), 0.2)
    for seed in SEEDS:
        new = eda.augment_sentence(SENTENCE, "synonym_replacement", alpha=0.2, seed=seed).split()
        assert len(new) == len(WORDS)
        changed = {(old, replaced) for old, replaced in zip(WORDS, new) if old != replaced}
        assert changed and all(replaced in eda.SYNONYMS[old] for old, replaced in changed)
        originals = {old for old, _ in changed}
        assert len(originals) == n  # n distinct words, each replaced everywhere by one synonym
        for old in originals:
            assert len({replaced for o, replaced in zip(WORDS, new) if o == old}) == 1


def test_random_insertion_adds_only_synonyms_of_words_in_the_sentence():
    n = eda.changes_count(len(WORDS), 0.2)
    allowed = {synonym for word in WORDS for synonym in eda.SYNONYMS.get(word, ())}
    for seed in SEEDS:
        new = eda.augment_sentence(SENTENCE, "random_insertion", alpha=0.2, seed=seed).split()
        assert len(new) == len(WORDS) + n
        added = Counter(new) - Counter(WORDS)
        assert sum(added.values()) == n and set(added) <= allowed
        assert is_subsequence(WORDS, new)  # the original words stay, in order


def test_random_swap_keeps_the_multiset_of_words():
    n = eda.changes_count(len(WORDS), 0.2)
    moved_somewhere = False
    for seed in SEEDS:
        new = eda.augment_sentence(SENTENCE, "random_swap", alpha=0.2, seed=seed).split()
        assert Counter(new) == Counter(WORDS)
        moved = sum(a != b for a, b in zip(WORDS, new))
        assert moved <= 2 * n
        moved_somewhere |= moved > 0
    assert moved_somewhere


def test_random_deletion_only_removes_words():
    lengths = []
    for seed in SEEDS:
        new = eda.augment_sentence(SENTENCE, "random_deletion", alpha=0.3, seed=seed).split()
        assert is_subsequence(new, WORDS) and 1 <= len(new) <= len(WORDS)
        lengths.append(len(new))
    # each word goes with probability 0.3: on average 9.8 of 14 stay
    assert min(lengths) < len(WORDS) and 8 < sum(lengths) / len(lengths) < 11.6


def test_deletion_of_every_word_keeps_one_and_single_words_stay():
    rng = random.Random(0)
    assert eda.random_deletion(["only"], 1.0, rng) == ["only"]
    kept = eda.random_deletion(["a", "b", "c"], 1.0, rng)
    assert len(kept) == 1 and kept[0] in {"a", "b", "c"}


def test_operations_without_material_leave_the_sentence_alone():
    assert eda.augment_sentence("zebra xylophone quantum", "synonym_replacement", seed=1) == "zebra xylophone quantum"
    assert eda.augment_sentence("zebra xylophone quantum", "random_insertion", seed=1) == "zebra xylophone quantum"
    assert eda.augment_sentence("Hello!", "random_swap", seed=1) == "hello"


def test_synonym_list_is_symmetric_lower_case_and_unambiguous():
    appearances = Counter(word for group in eda.SYNONYM_GROUPS for word in group)
    assert max(appearances.values()) == 1  # no word in two groups
    for word, synonyms in eda.SYNONYMS.items():
        assert word not in synonyms and synonyms
        assert word == word.lower() and " " not in word
        assert all(word in eda.SYNONYMS[other] for other in synonyms)
    assert set(eda.SYNONYMS["big"]) == {"large", "huge", "enormous"}


@pytest.mark.parametrize("kwargs, message", [
    ({"sentence": ""}, "at least one word"),
    ({"sentence": "   ?! ..."}, "at least one word"),
    ({"sentence": "x" * 501}, "501 characters"),
    ({"sentence": "go " * 81}, "81 words"),
    ({"sentence": None}, "type a sentence"),
    ({"method": "back_translation"}, "Unknown method"),
    ({"alpha": 0}, "alpha"),
    ({"alpha": 0.8}, "alpha"),
    ({"alpha": "0.1"}, "alpha"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
])
def test_bad_input_raises_a_clear_value_error(kwargs, message):
    arguments = {"sentence": SENTENCE, "method": "random_swap", "alpha": 0.1, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        eda.augment_sentence(arguments.pop("sentence"), arguments.pop("method"), **arguments)


def test_change_summary_names_what_each_operation_did():
    sentence = "the quick fox saw a big dog"
    assert eda.change_summary(sentence, "the fast fox saw a huge dog", "synonym_replacement") == \
        "quick → fast, big → huge"
    assert eda.change_summary(sentence, "the quick fox saw large a big dog", "random_insertion") == "added large"
    assert eda.change_summary(sentence, "the dog fox saw a big quick", "random_swap") == "moved dog, quick"
    assert eda.change_summary(sentence, "the fox saw dog", "random_deletion") == "deleted quick, a, big"
    assert "nothing deleted" in eda.change_summary(sentence, "the quick fox saw a big dog", "random_deletion")
