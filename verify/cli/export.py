"""`verify export MODEL --onnx FILE --vnnlib DIR`: the network and the claim for other verifiers.

The ONNX file is checked by `onnx.checker` and run in onnxruntime against the PyTorch model
before this command reports success (exit 1 if they disagree beyond float32 tolerance).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from verify.cli.common import ExitCode, Io, count_arg
from verify.core.claim import CLAIM_NAMES, DEFAULT_CLAIM, claim_from_name
from verify.core.errors import InputError
from verify.formats import load_weights
from verify.render.files import prepare_file, prepare_folder


EXPORT_EXIT_CODES = """exit codes:
  0    written and checked
  1    onnxruntime disagrees with PyTorch beyond float32 tolerance
  2    bad input or usage, or an output cannot be written: one line on stderr"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("export", help="write the unrolled network as ONNX and the claim as VNN-LIB properties",
                       epilog=EXPORT_EXIT_CODES)
    p.add_argument("model", metavar="MODEL", help="state dict (.pth) or ONNX model")
    p.add_argument("--onnx", metavar="FILE", help="write the unrolled network here (MatMul/Add/Relu, no biases)")
    p.add_argument("--vnnlib", metavar="DIR", help="write one VNN-LIB 2.0 violation property per input ordering here")
    p.add_argument("--claim", choices=sorted(CLAIM_NAMES), default=DEFAULT_CLAIM, help="claim to export (default 2nd-argmax)")
    p.add_argument("--samples", type=count_arg, default=2000, metavar="N",
                   help="random inputs for the onnxruntime-vs-PyTorch check (default 2000)")
    p.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace, io: Io) -> int:
    if not args.onnx and not args.vnnlib:
        raise InputError("verify export: give --onnx FILE and/or --vnnlib DIR")  # printed "verify export: error: ..."
    if args.samples < 1:
        raise InputError(f"--samples must be positive, got {args.samples}")
    if args.onnx:
        prepare_file(Path(args.onnx), "--onnx")
    if args.vnnlib:
        prepare_folder(Path(args.vnnlib), "--vnnlib")
    weights = load_weights(Path(args.model))
    claim = claim_from_name(args.claim, weights.seq_len, where=args.model)
    onnx_path = Path(args.onnx) if args.onnx else None
    if onnx_path is not None:
        import onnx

        from verify.formats.onnx_out import build_onnx, check_export

        model = build_onnx(weights)
        check = check_export(model, weights, samples=args.samples)
        try:
            onnx_path.parent.mkdir(parents=True, exist_ok=True)
            onnx.save(model, str(onnx_path))
        except OSError as exc:
            raise InputError(f"--onnx {onnx_path}: cannot write ({exc.strerror or type(exc).__name__})") from None
        io.out(f"{onnx_path}: M_{{{weights.hidden_size},{weights.seq_len}}} unrolled, onnx.checker passed; "
               f"onnxruntime vs PyTorch on {check.samples} inputs: max |diff| {check.max_abs_diff:.3g} "
               f"({check.worst_ratio:.3f} of the float32 tolerance)")
        if not check.ok:
            io.err(f"verify export: {onnx_path}: onnxruntime disagrees with PyTorch beyond float32 tolerance")
            return ExitCode.REFUTED
    if args.vnnlib:
        from verify.formats.vnnlib import write_properties

        folder = Path(args.vnnlib)
        try:
            written = write_properties(weights, claim, folder, onnx_path=onnx_path)
        except OSError as exc:
            raise InputError(f"--vnnlib {folder}: cannot write ({exc.strerror or type(exc).__name__})") from None
        extra = " and instances.csv" if onnx_path is not None else ""
        io.out(f"{folder}: {len(written)} VNN-LIB 2.0 properties ({claim.name}, one per input ordering){extra}")
    return 0
