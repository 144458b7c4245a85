"""`verify sample`: Monte Carlo estimate of the error rate on the real float32 model."""

from __future__ import annotations

import argparse
import json

from verify.cli import Io
from verify.errors import InputError
from verify.loading import load_weights
from verify.sampling import sample_error_rate


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("sample", help="Monte Carlo estimate of the float32 error rate (for comparison)")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("-n", "--samples", type=int, default=1_000_000, help="number of Gaussian inputs (default 1e6)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run_sample)


def run_sample(args: argparse.Namespace, io: Io) -> int:
    if args.samples <= 0:
        raise InputError(f"-n must be positive, got {args.samples}")
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
