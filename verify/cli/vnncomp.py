"""`verify vnncomp-check RESULT --onnx F --vnnlib P`: is another verifier's `sat` witness real?

Reads a VNN-COMP result file as data and, for `sat`, decides the property P at the witness in
exact rational arithmetic (the exact network) and in float32 (the real PyTorch model), and says
whether the witness breaks the claim in each. The network comes from the ONNX file through the
same strict structural import as `verify check`. Heavy imports stay inside the handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from verify.cli.common import ExitCode, Io
from verify.core.claim import CLAIM_NAMES, DEFAULT_CLAIM, claim_from_name

VNNCOMP_EXIT_CODES = """exit codes:
  0    sat, and the witness satisfies the property in exact arithmetic (a real witness)
  1    sat, but the witness does not satisfy the property in exact arithmetic (a false witness)
  2    bad input or usage (unreadable result, ONNX or VNN-LIB file): one line on stderr
  3    the result is unsat, timeout, error or unknown: there is no witness to check (an unsat
       answer is not checked here; only `verify check` proves a claim)"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("vnncomp-check", help="check another verifier's VNN-COMP result (a sat witness) exactly",
                       epilog=VNNCOMP_EXIT_CODES)
    p.add_argument("result", metavar="RESULT_FILE", help="the verifier's result file: sat/unsat/... and, for sat, ((X_0 v) ... (Y_0 v) ...)")
    p.add_argument("--onnx", metavar="FILE", required=True, help="the network the result is about (a form `verify check` reads)")
    p.add_argument("--vnnlib", metavar="FILE", required=True, help="the property the result is about (VNN-LIB 1.0, or the 2.0 files of `verify export`)")
    p.add_argument("--claim", choices=sorted(CLAIM_NAMES), default=DEFAULT_CLAIM,
                   help="the claim whose misclassification is reported (default 2nd-argmax)")
    p.set_defaults(handler=run_vnncomp_check)


def _vector(values: tuple[object, ...]) -> str:
    return "[" + ", ".join(f"{float(v)!r}" for v in values) + "]"  # type: ignore[arg-type]


def _claim_words(misclassified: bool | None, predicted: int, expected: int | None) -> str:
    if misclassified is None:
        return f"claim undefined (tied inputs), predicted {predicted}"
    if misclassified:
        return f"MISCLASSIFIED (predicted {predicted}, expected {expected})"
    return f"correct (predicted {predicted})"


def run_vnncomp_check(args: argparse.Namespace, io: Io) -> int:
    from verify.formats import load_weights
    from verify.formats.vnncomp_result import check_witness, read_result
    from verify.formats.vnnlib_read import read_property

    result = read_result(Path(args.result))
    prop = read_property(Path(args.vnnlib))
    weights = load_weights(Path(args.onnx))
    claim = claim_from_name(args.claim, weights.seq_len, where=args.onnx)
    if result.status != "sat":
        io.out(f"{args.result}: {result.status}: no witness to check")
        return ExitCode.UNKNOWN
    check = check_witness(result, prop, weights, claim)
    exact, f32 = check.exact, check.float32
    io.out(f"{args.result}: sat, witness x = {_vector(exact.x)}")
    io.out(f"  exact arithmetic: property {'HOLDS' if exact.property_holds else 'fails'}"
           f"{'' if exact.inputs_hold else ' (the input constraints fail)'}; "
           f"{_claim_words(exact.misclassified, exact.predicted, exact.expected)}")
    io.out(f"  float32 (x rounded to {_vector(f32.x)}): property {'HOLDS' if f32.property_holds else 'fails'}"
           f"{'' if f32.inputs_hold else ' (the input constraints fail)'}; "
           f"{_claim_words(f32.misclassified, f32.predicted, f32.expected)}")
    if check.claimed_gap is not None:
        io.out(f"  the result's own outputs differ from PyTorch's float32 logits by at most {check.claimed_gap:.3g}")
    io.out(f"  verdict: {'REAL witness' if check.real else 'FALSE witness'} (exact arithmetic)")
    return ExitCode.PROVED if check.real else ExitCode.REFUTED
