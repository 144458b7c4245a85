"""Which task a model is checked for, and the settings of a regression (median) check.

Shared by `verify check`, `verify ci` and the pytest plugin (hence in the check layer).

A model's task comes from, in order: --claim, the model card beside it (FILE.json, as
`verify train` writes it: "task" / "claim", and "seq_len"), else its shape (one output: median;
one logit per input: 2nd-argmax). A ScalarRNN's sequence length is not in its weights: --seq-len,
else the card, else a one-line exit 2 that says so. eps comes from --eps, else the card's "eps",
else `DEFAULT_EPS`; it is parsed exactly (a decimal or p/q is the rational it spells).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from verify.check.regression import DEFAULT_EPS, RegressionOptions
from verify.check.regions import Budget
from verify.core.claim import CLAIM_NAMES, default_claim_for, is_regression, regression_claim_from_name
from verify.core.errors import InputError
from verify.core.weights import ModelWeights

MAX_CARD_BYTES = 1 << 20


def parse_eps(text: str, what: str = "--eps") -> Fraction:
    """A tolerance written as a decimal, an exponent or p/q, as the exact rational it spells."""
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise InputError(f"{what} must be a number such as 0.05, 1e-3 or 1/20, got {text!r}") from None
    if value < 0:
        raise InputError(f"{what} must be 0 or more, got {text}")
    return value


def model_card(path: Path) -> dict[str, Any]:
    """The card beside a model (FILE.json), or {} when there is none or it is not a JSON object."""
    card = Path(path).with_suffix(".json")
    try:
        if not card.is_file() or card.stat().st_size > MAX_CARD_BYTES or card == Path(path):
            return {}
        data = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def outputs_of(weights: ModelWeights) -> int:
    return int(weights.w_oh.shape[0])


def task_for(path: Path, weights: ModelWeights, requested: str | None) -> str:
    """The claim to check: the one asked for, else the card's task, else the model's shape's default."""
    if requested is not None:
        return requested
    card = model_card(path)
    for key in ("task", "claim"):
        name = card.get(key)
        if isinstance(name, str) and name in CLAIM_NAMES:
            return name
    return default_claim_for(outputs_of(weights))


def regression_options(path: Path, weights: ModelWeights, name: str, *, seq_len: int | None, eps: Fraction | None,
                       budget: Budget, timeout_ms: int | None) -> RegressionOptions:
    """Validated settings of a regression check of `weights` (one line InputError on any problem)."""
    card = model_card(path)
    if seq_len is None:
        carded = card.get("seq_len")
        if isinstance(carded, int) and not isinstance(carded, bool):
            seq_len = carded
    if seq_len is None:
        raise InputError(f"{path}: a one-output ScalarRNN does not fix its sequence length; pass --seq-len N "
                         "(or give it a model card FILE.json with \"seq_len\")")
    claim = regression_claim_from_name(name, outputs=outputs_of(weights), seq_len=seq_len, where=str(path))
    if eps is None:
        eps = parse_eps(card["eps"], f"{path}: card eps") if "eps" in card else DEFAULT_EPS
    return RegressionOptions(seq_len=seq_len, eps=eps, claim=claim, budget=budget, timeout_ms=timeout_ms)


def wants_regression(name: str) -> bool:
    return is_regression(name)
