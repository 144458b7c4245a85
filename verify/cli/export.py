"""`verify export MODEL --onnx FILE --vnnlib DIR`: the network and the claim for other verifiers.

Every ONNX file written is checked by `onnx.checker` and run in onnxruntime against the PyTorch
model before this command reports success (exit 1 if they disagree beyond float32 tolerance).
`--vnnlib DIR` writes a VNN-COMP benchmark folder (see `verify.formats.vnnlib`) with the unrolled
graph, whatever `--onnx-form` says: that is the form Marabou and the VNN-COMP tools read.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from verify.cli.common import ExitCode, Io, count_arg
from verify.core.claim import CLAIM_NAMES, DEFAULT_CLAIM, claim_from_name
from verify.core.errors import InputError
from verify.core.weights import ModelWeights

# load_weights and the output-path checks are imported by the handler; ONNX only when it is written.

EXPORT_EXIT_CODES = """exit codes:
  0    written and checked
  1    onnxruntime disagrees with PyTorch beyond float32 tolerance
  2    bad input or usage, or an output cannot be written: one line on stderr

VNN-LIB 1.0 has no strict comparisons: --margin EPS turns each strict comparison into a
difference of at least EPS. Every point of such a query is a counterexample of the exact claim,
but `unsat` is no proof (slivers thinner than EPS are not asked for); only `verify check` proves."""


def margin_arg(text: str) -> float:
    """An argparse type: a finite positive number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid margin: {text!r}") from None
    if not math.isfinite(value) or not value > 0:
        raise argparse.ArgumentTypeError(f"invalid margin: {text!r} (a positive number, e.g. 1e-6)")
    return value


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("export", help="write the unrolled network as ONNX and the claim as a VNN-COMP benchmark",
                       epilog=EXPORT_EXIT_CODES)
    p.add_argument("model", metavar="MODEL", help="state dict (.pth) or ONNX model (either form `verify check` reads)")
    p.add_argument("--onnx", metavar="FILE", help="write the network here (see --onnx-form)")
    p.add_argument("--onnx-form", choices=("unrolled", "rnn"), default="unrolled",
                   help="--onnx FILE as the unrolled MatMul/Add/Relu graph that Marabou and VNN-COMP tools read "
                        "(default), or as torch.onnx.export's one-RNN-node graph (onnxruntime reads it, Marabou does not)")
    p.add_argument("--vnnlib", metavar="DIR", help="write a VNN-COMP benchmark folder here: onnx/, vnnlib/ (one "
                   "violation query per input ordering), instances.csv, generate_properties.py, README.md")
    p.add_argument("--vnnlib-version", choices=("1.0", "2.0"), default="2.0",
                   help="2.0 (default): the exact queries, strict comparisons; 1.0: scalar X_i/Y_j and only >= / <=, "
                        "which needs --margin")
    p.add_argument("--margin", type=margin_arg, metavar="EPS",
                   help="VNN-LIB 1.0 only: input orderings become (>= (- X_a X_b) EPS), logit comparisons (>= (- Y_j Y_t) EPS)")
    p.add_argument("--output-margin", type=margin_arg, metavar="EPS",
                   help="VNN-LIB 1.0 only: a different margin for the logit comparisons (default: --margin)")
    p.add_argument("--instance-timeout", type=count_arg, default=300, metavar="S",
                   help="the per-instance timeout written into instances.csv (default 300)")
    p.add_argument("--claim", choices=sorted(CLAIM_NAMES), default=DEFAULT_CLAIM, help="claim to export (default 2nd-argmax)")
    p.add_argument("--samples", type=count_arg, default=2000, metavar="N",
                   help="random inputs for the onnxruntime-vs-PyTorch check (default 2000)")
    p.set_defaults(handler=run_export)


def _check_options(args: argparse.Namespace) -> None:
    if not args.onnx and not args.vnnlib:
        raise InputError("verify export: give --onnx FILE and/or --vnnlib DIR")  # printed "verify export: error: ..."
    if args.samples < 1:
        raise InputError(f"--samples must be positive, got {args.samples}")
    if args.instance_timeout < 1:
        raise InputError(f"--instance-timeout must be positive, got {args.instance_timeout}")
    margins = args.margin is not None or args.output_margin is not None
    if args.vnnlib_version == "1.0" and args.margin is None:
        raise InputError("verify export: VNN-LIB 1.0 has no strict comparisons; give --margin EPS (e.g. 1e-6)")
    if args.vnnlib_version == "2.0" and margins:
        raise InputError("verify export: --margin and --output-margin are for --vnnlib-version 1.0 "
                         "(VNN-LIB 2.0 states strict comparisons exactly)")
    if margins and not args.vnnlib:
        raise InputError("verify export: --margin needs --vnnlib DIR")


def _checked(model: Any, weights: ModelWeights, samples: int, what: Path, io: Io) -> bool:
    from verify.formats.onnx_out import check_export

    check = check_export(model, weights, samples=samples)
    io.out(f"{what}: onnx.checker passed; onnxruntime vs PyTorch on {check.samples} inputs: max |diff| "
           f"{check.max_abs_diff:.3g} ({check.worst_ratio:.3f} of the float32 tolerance)")
    if not check.ok:
        io.err(f"verify export: {what}: onnxruntime disagrees with PyTorch beyond float32 tolerance")
    return check.ok


def run_export(args: argparse.Namespace, io: Io) -> int:
    from verify.formats import load_weights
    from verify.render.files import prepare_file, prepare_folder

    _check_options(args)
    if args.onnx:
        prepare_file(Path(args.onnx), "--onnx")
    if args.vnnlib:
        prepare_folder(Path(args.vnnlib), "--vnnlib")
    weights = load_weights(Path(args.model))
    claim = claim_from_name(args.claim, weights.seq_len, where=args.model, outputs=int(weights.w_oh.shape[0]))
    shape = f"M_{{{weights.hidden_size},{weights.seq_len}}}"
    if args.onnx:
        import onnx

        from verify.formats.onnx_out import build_onnx, build_rnn_onnx

        onnx_path = Path(args.onnx)
        model = build_onnx(weights) if args.onnx_form == "unrolled" else build_rnn_onnx(weights)
        if not _checked(model, weights, args.samples, onnx_path, io):
            return ExitCode.REFUTED
        try:
            onnx_path.parent.mkdir(parents=True, exist_ok=True)
            onnx.save(model, str(onnx_path))
        except OSError as exc:
            raise InputError(f"--onnx {onnx_path}: cannot write ({exc.strerror or type(exc).__name__})") from None
        form = "unrolled (MatMul/Add/Relu)" if args.onnx_form == "unrolled" else "one RNN node (torch.onnx.export)"
        io.out(f"{onnx_path}: {shape}, {form}")
    if args.vnnlib:
        from verify.formats.onnx_out import build_onnx
        from verify.formats.vnnlib import benchmark_parameters, write_benchmark

        folder = Path(args.vnnlib)
        output_margin = args.output_margin if args.output_margin is not None else args.margin
        bench = benchmark_parameters(weights, claim, version=args.vnnlib_version, input_margin=args.margin,
                                     output_margin=output_margin, timeout=args.instance_timeout)
        unrolled = build_onnx(weights)
        if not _checked(unrolled, weights, args.samples, folder / bench["onnx"], io):
            return ExitCode.REFUTED
        try:
            written = write_benchmark(folder, bench, unrolled.SerializeToString())
        except OSError as exc:
            raise InputError(f"--vnnlib {folder}: cannot write ({exc.strerror or type(exc).__name__})") from None
        margin = (f", margins {args.margin:g} (inputs) / {output_margin:g} (logits)"
                  if args.vnnlib_version == "1.0" else "")
        io.out(f"{folder}: VNN-COMP benchmark, {len(written.properties)} VNN-LIB {written.version} properties "
               f"({claim.name}, one per input ordering{margin}), {written.onnx}, instances.csv, "
               f"generate_properties.py, README.md")
    return 0
