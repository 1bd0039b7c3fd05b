"""One compiled program per kind of run, shared by every session: counted traces, independent exact results, bounds."""
import threading

import numpy as np
import pytest

from models.engine import programs
from models.engine.mlp import build_mlp
from models.engine.trainer import Trainer
from models.training.datasets import make_circles, make_moons, split

pytestmark = pytest.mark.slow

KWARGS = {"hidden_units": (16, 16), "dropout_rate": 0.2, "l2": 0.001}


def data(maker=make_moons, n=90, seed=0):
    parts = split(maker(n, 0.2, seed), 1 / 3, seed)
    return (parts.train[["x1", "x2"]].to_numpy(), parts.train["label"].to_numpy(),
            parts.validation[["x1", "x2"]].to_numpy(), parts.validation["label"].to_numpy())


def trainer(model_seed=0, n_train=60, **settings):
    return Trainer(build_mlp(**KWARGS, seed=model_seed), n_train=n_train, n_val=30, batch_size=8, **settings)


def alone(student_data, seed, learning_rate, epochs=12):
    """The same run on a program of its own: the cache emptied first, so nothing is shared."""
    programs.clear_programs()
    own = trainer()
    own.start(*student_data, epochs=epochs, learning_rate=learning_rate, seed=seed)
    return own, own.run()


def test_two_sessions_share_one_compile_and_keep_their_own_exact_results():
    programs.clear_programs()
    students = [(data(make_moons, seed=1), 1, 0.01), (data(make_circles, seed=2), 2, 0.05)]
    first, second = trainer(model_seed=5), trainer(model_seed=9)  # two sessions' own models
    assert first.program is second.program and len(programs.cached_programs()) == 1
    for one, (student_data, seed, rate) in zip((first, second), students):
        one.start(*student_data, epochs=12, learning_rate=rate, seed=seed)
    results = {}
    while not (first.done and second.done):  # their chunks interleave on the one program
        for name, one in (("first", first), ("second", second)):
            if not one.done:
                results[name] = one.run(5)
    program = first.program
    assert program.traces == 1 and program.chunk.experimental_get_tracing_count() == 1
    for name, one, (student_data, seed, rate) in (("first", first, students[0]), ("second", second, students[1])):
        own, reference = alone(student_data, seed, rate)
        assert own.program is not program
        assert results[name].history.equals(reference.history), name
        for ours, theirs in zip(one.model.get_weights(), own.model.get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    assert not results["first"].history.equals(results["second"].history)


def test_programs_are_keyed_by_what_they_compute():
    programs.clear_programs()
    base = trainer()
    assert trainer(model_seed=3).program is base.program  # the seed is an input, not part of the program
    assert trainer(n_train=59).program is not base.program  # another data shape
    assert Trainer(build_mlp(**{**KWARGS, "l2": 0.01}), n_train=60, n_val=30, batch_size=8).program \
        is not base.program
    assert trainer(optimizer="sgd").program is not base.program
    assert Trainer(build_mlp(**KWARGS), n_train=60, n_val=30, batch_size=16).program is not base.program


def test_the_cache_is_bounded_and_an_evicted_program_still_serves_its_trainer(monkeypatch):
    programs.clear_programs()
    monkeypatch.setattr(programs, "MAX_PROGRAMS", 2)
    trainers = [trainer(n_train=n) for n in (40, 41, 42)]
    cached = programs.cached_programs()
    assert len(cached) == 2 and trainers[0].program not in cached  # least recently used went first
    assert trainer(n_train=41).program is trainers[1].program  # reused, and now the most recent
    assert programs.cached_programs()[-1] is trainers[1].program
    x, y, xv, yv = data(n=105)  # 70 training, 35 validation points
    trainers[0].start(x[:40], y[:40], xv[:30], yv[:30], epochs=3, learning_rate=0.01)
    assert trainers[0].run().status == "finished"


def test_a_program_keeps_no_student_numbers():
    programs.clear_programs()
    one = trainer()
    template = [w.copy() for w in one.program.template.get_weights()]
    one.start(*data(), epochs=5, learning_rate=0.05, seed=4)
    one.run()
    for before, after in zip(template, one.program.template.get_weights()):
        np.testing.assert_array_equal(before, after)  # training never wrote into the shared template
    assert not any(np.array_equal(a, b) for a, b in zip(template, one.model.get_weights()))


def test_students_arriving_at_once_compile_once():
    programs.clear_programs()
    trainers = [trainer(), trainer()]
    sets = [data(seed=7), data(seed=8)]
    results = [None, None]

    def work(index):
        trainers[index].start(*sets[index], epochs=6, learning_rate=0.02, seed=index)
        results[index] = trainers[index].run()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert trainers[0].program.traces == 1
    for index in range(2):
        _, reference = alone(sets[index], index, 0.02, epochs=6)
        assert results[index].history.equals(reference.history)


def test_a_finished_run_keeps_only_its_weights():
    one = trainer()
    one.start(*data(), epochs=4, learning_rate=0.05, seed=2)
    one.run(2)
    assert one._state.slots is not None and one._state.best is not None
    result = one.run()
    assert result.done and one._state.slots is None and one._state.best is None  # optimizer state let go
    assert one.run().history.equals(result.history)  # asking again changes nothing
    one.warm_up()
    one.start(*data(), epochs=4, learning_rate=0.05, seed=2)  # and the trainer trains again, the same
    assert one.run().history.equals(result.history)
