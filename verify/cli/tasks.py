"""`verify ci` for regression (median) entries; the task and settings helpers live in
verify.check.task_settings and are re-exported here for the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verify.check.regions import Budget
from verify.check.task_settings import (model_card, outputs_of, parse_eps, regression_options, task_for,
                                        wants_regression)
from verify.core.errors import InputError

__all__ = ["check_regression_entry", "model_card", "outputs_of", "parse_eps", "regression_options", "task_for",
           "wants_regression"]


def check_regression_entry(entry: Any, *, stop: Any = None, progress: Any = None) -> Any:
    """`verify ci` for a median entry: the exact regression check at the card's length and eps, judged
    on its verdict, and on its exact MSE by the entry's error-rate bounds (for a regression entry,
    `error_rate`, `max_error_rate` and `min_error_rate` bound the MSE)."""
    import time

    from verify.check.regression import check_regression
    from verify.ci.manifest import Finding, Outcome, judge
    from verify.formats import load_weights

    start = time.perf_counter()
    try:
        weights = load_weights(entry.path)
        options = regression_options(Path(entry.path), weights, entry.claim, seq_len=None, eps=None,
                                     budget=Budget(entry.max_regions, entry.time_budget), timeout_ms=None)
    except InputError as exc:
        return Outcome(entry, "-", None, 0, time.perf_counter() - start, "",
                       [Finding("model", " ".join(str(exc).split()))])
    result = check_regression(weights, options, on_region=progress, should_stop=None if stop is None else stop.flag)
    verdict = result.verdict.word
    failures = judge(entry, verdict, result.mse, weights.sha256)
    if result.interrupted:
        failures = [Finding("interrupted", result.search.stop_reason or "interrupted"), *failures]
    return Outcome(entry, verdict, result.mse, len(result.regions), time.perf_counter() - start, weights.sha256,
                   failures, dims=f"{weights.hidden_size},{options.seq_len}", interrupted=result.interrupted)
