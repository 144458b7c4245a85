"""`verify sample`: Monte Carlo estimate of the error rate on the real float32 model."""

from __future__ import annotations

import argparse
import json

from verify.cli.common import Io, count_arg
from verify.core.errors import InputError

MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed's range
SAMPLE_EXIT_CODES = """exit codes:
  0    the estimate was printed
  2    bad input or usage: one line on stderr, never a traceback"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("sample", help="Monte Carlo estimate of the float32 error rate (for comparison)",
                       description="Monte Carlo estimate of the float32 model's error rate: an ESTIMATE with its "
                                   "standard error, never exact.", epilog=SAMPLE_EXIT_CODES)
    p.add_argument("model", metavar="MODEL")
    p.add_argument("-n", "--samples", type=count_arg, default=1_000_000, metavar="N",
                   help="number of Gaussian inputs, e.g. 100000 or 1e5 (default 1e6)")
    p.add_argument("--seed", type=int, default=0, help=f"random seed, 0 to {MAX_SEED} (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run_sample)


def run_sample(args: argparse.Namespace, io: Io) -> int:
    from verify.check.sampling import sample_error_rate
    from verify.formats import load_weights

    if args.samples <= 0:
        raise InputError(f"-n must be positive, got {args.samples}")
    if not 0 <= args.seed <= MAX_SEED:
        raise InputError(f"--seed must be between 0 and {MAX_SEED}, got {args.seed}")
    weights = load_weights(args.model)
    est = sample_error_rate(weights, args.samples, seed=args.seed)
    if args.json:
        io.out(json.dumps({
            "model": weights.path, "samples": est.samples, "errors": est.errors, "rate": est.rate,
            "standard_error": est.standard_error, "seconds": est.seconds,
            "samples_per_second": est.samples_per_second, "seed": est.seed, "method": "monte-carlo estimate",
        }))
    else:
        one_in = f" (about 1 in {1 / est.rate:,.0f})" if est.errors else ""
        io.out(f"{weights.path}: ESTIMATE error rate {est.rate:.6g} +- {est.standard_error:.2g} (1 s.e.){one_in}; "
               f"{est.errors} errors in {est.samples:,} samples, {est.seconds:.2f} s, "
               f"{est.samples_per_second:,.0f} samples/s")
    return 0
