"""The exact check of one model: standardize, regions, claims, measures, counterexamples.

Lives here: `standardize`, `regions` (the depth-first region search and its budget), `claims`
(each region's claim decided by Z3), `counterexamples` (witnesses re-run in float32),
`float32_band` (where float32 may differ from the exact network), `sampling` (the Monte Carlo
baseline), `parallel` (`--jobs`), `pipeline` (`check_model -> CheckResult`).
May import: `verify.core`, `verify.smt`, `verify.geometry`, `verify.formats`.
"""

from verify.check.claims import Verdict
from verify.check.pipeline import CheckOptions, CheckResult, StopFlag, check_model
from verify.check.regions import Budget

__all__ = ["Budget", "CheckOptions", "CheckResult", "StopFlag", "Verdict", "check_model"]
