"""The median stopping rule of a fine-tuning search: pure, judged on the losses alone."""

from __future__ import annotations

from edge_app.train.pruning import GRACE, MedianStop, running_best


def test_running_best_is_the_lowest_loss_so_far() -> None:
    assert running_best([0.5, 0.7, 0.4, 0.6]) == [0.5, 0.5, 0.4, 0.4]
    assert running_best([]) == []


def test_no_trial_is_stopped_before_a_quorum_of_earlier_trials() -> None:
    rule = MedianStop()
    assert not rule.stops([9.0, 9.0, 9.0])
    rule.finished([0.1, 0.1])
    assert not rule.stops([9.0, 9.0, 9.0])  # one earlier trial is no median
    rule.finished([0.2, 0.2])
    assert rule.stops([9.0, 9.0, 9.0])


def test_no_trial_is_stopped_within_its_grace_epochs() -> None:
    rule = MedianStop()
    for losses in ([0.1, 0.1, 0.1], [0.2, 0.2, 0.2], [0.3, 0.3, 0.3]):
        rule.finished(losses)
    assert GRACE == 2
    assert not rule.stops([5.0])  # the warm-up epoch alone judges nothing
    assert rule.stops([5.0, 5.0])


def test_a_trial_stops_only_when_its_best_is_worse_than_the_median_at_that_epoch() -> None:
    rule = MedianStop()
    rule.finished([1.0, 0.5, 0.4])
    rule.finished([1.0, 0.7, 0.6])
    rule.finished([1.0, 0.9, 0.8])  # medians of the running bests: 1.0, 0.7, 0.6
    assert not rule.stops([0.8, 0.7])  # equal to the median: goes on
    assert rule.stops([0.8, 0.75])
    assert not rule.stops([0.65, 0.9])  # its best epoch counts, not its last
    assert rule.stops([0.9, 0.9, 0.65])
    assert not rule.stops([0.9, 0.9, 0.6])


def test_an_earlier_trial_that_stopped_sooner_keeps_its_last_best() -> None:
    rule = MedianStop()
    rule.finished([0.3, 0.35, 0.4])  # stopped by its own patience after 3 epochs, best 0.3
    rule.finished([0.5, 0.2, 0.1, 0.05, 0.04])
    # at epoch 5, the bests are 0.3 (kept from epoch 1) and 0.04: the median is 0.17
    assert not rule.stops([0.5, 0.4, 0.3, 0.2, 0.16])
    assert rule.stops([0.5, 0.4, 0.3, 0.2, 0.18])


def test_the_same_losses_give_the_same_stops() -> None:
    trials = [[0.4, 0.3, 0.35], [0.6, 0.5, 0.45], [0.2, 0.25, 0.3], [0.7, 0.6, 0.5]]

    def decisions() -> list[bool]:
        rule, found = MedianStop(), []
        for losses in trials:
            found.append(any(rule.stops(losses[:epoch]) for epoch in range(1, len(losses) + 1)))
            rule.finished(losses)
        return found

    assert decisions() == decisions() == [False, False, False, True]
