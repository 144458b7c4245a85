"""A VNN-COMP benchmark folder: the unrolled ONNX network and the claim's violation queries.

Layout, as VNN-COMP benchmarks are laid out (every path in instances.csv relative to the folder):

    onnx/NAME.onnx             the unrolled MatMul/Add/Relu graph (`verify.formats.onnx_out`)
    vnnlib/prop_KKK_*.vnnlib   one violation query per ordering of the claim
    instances.csv              onnx,vnnlib,timeout per line
    generate_properties.py     regenerates vnnlib/ and instances.csv (stdlib only; seed ignored)
    README.md                  what the files say and what an answer means

The text of the queries lives in `verify.formats.vnnlib_text` (stdlib only), whose source is
copied into the folder as the generate script, so the two can never drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.core.claim import Claim
from verify.core.errors import InputError
from verify.core.weights import ModelWeights
from verify.formats import vnnlib_text

INSTANCE_TIMEOUT_S = 300
GENERATE_SCRIPT = "generate_properties.py"


@dataclass(frozen=True)
class Benchmark:
    """What was written: the folder, its ONNX file and its properties (paths relative to the folder)."""

    folder: Path
    onnx: str
    properties: tuple[str, ...]
    version: str


def benchmark_parameters(weights: ModelWeights, claim: Claim, *, version: str, input_margin: float | None,
                         output_margin: float | None, timeout: int) -> dict[str, Any]:
    """Everything the property text depends on, as plain data (it is written into the generate script)."""
    if version not in vnnlib_text.VERSIONS:
        raise ValueError(f"VNN-LIB version {version!r}, expected one of {vnnlib_text.VERSIONS}")
    k = claim.order_k(weights.seq_len)
    if k is None:
        raise InputError(f"the VNN-LIB export writes order claims (k-th largest input); {claim.name} is not one")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(weights.path).stem) or "model"  # a safe CSV field and file name
    bench: dict[str, Any] = {
        "version": version,
        "onnx": f"onnx/{name}.onnx",
        "n": weights.seq_len,
        "k": k,
        "d": weights.hidden_size,
        "claim": claim.name,
        "statement": claim.statement,
        "source": re.sub(r"[^A-Za-z0-9._-]", "_", Path(weights.path).name),  # it goes into ';' comments
        "sha256": weights.sha256 or "in memory",
        "timeout": int(timeout),
    }
    if version == "1.0":
        if input_margin is None or output_margin is None:
            raise ValueError("VNN-LIB 1.0 needs margins")
        bench["input_margin"] = float(input_margin)
        bench["output_margin"] = float(output_margin)
    return bench


def generate_script(bench: dict[str, Any]) -> str:
    """The stdlib-only text module, then this benchmark's parameters and a `__main__` entry."""
    source = Path(vnnlib_text.__file__).read_text(encoding="utf-8")
    return (source.rstrip("\n") + "\n\n\n# ---- this benchmark (written by `verify export`) ----\n\n"
            f"BENCHMARK = {bench!r}\n\n"
            "if __name__ == \"__main__\":\n"
            "    sys.exit(main(sys.argv[1:], BENCHMARK, os.path.dirname(os.path.abspath(__file__))))\n")


def readme_text(bench: dict[str, Any], count: int) -> str:
    exact = bench["version"] == "2.0"
    lines = [
        f"# relu-verify benchmark: {bench['claim']} on {bench['source']} (M_{{{bench['d']},{bench['n']}}})",
        "",
        f"Written by `verify export` (relu-verify). Model sha256 {bench['sha256']}.",
        "",
        f"- `{bench['onnx']}`: the bias-free ReLU RNN unrolled over its {bench['n']} steps (MatMul, Add, Relu;",
        f"  input `X` [batch, {bench['n']}], output `Y` [batch, {bench['n']}]; float32 weights bit for bit).",
        f"- `vnnlib/`: {count} VNN-LIB {bench['version']} properties, one per input ordering. Each asks for a",
        f"  counterexample to the claim \"{bench['statement']}\"",
        "  on its ordering, inside the box [-1, 1]^n (no loss: the network has no biases, so the",
        "  logits scale with x and neither the ordering nor the argmax changes).",
        f"- `instances.csv`: onnx, vnnlib, timeout ({bench['timeout']} s per instance), paths relative to this folder.",
        f"- `{GENERATE_SCRIPT} [SEED]`: rewrites `vnnlib/` and `instances.csv` (Python 3 standard library only;",
        "  the properties are fixed, so every seed gives the same files).",
        "",
        "## What an answer means",
        "",
    ]
    if exact:
        lines += [
            "The properties are the exact violation queries (strict comparisons, VNN-LIB 2.0). `sat` with a",
            "witness is a counterexample if the witness really satisfies the property; `unsat` on every",
            "file means the claim holds for the network in the verifier's own arithmetic.",
        ]
    else:
        lines += [
            "VNN-LIB 1.0 has no strict comparisons, so each strict comparison of the exact query is",
            f"replaced by a difference of at least a margin: input orderings `(>= (- X_a X_b) {vnnlib_text.number(bench['input_margin'])})`,",
            f"logit comparisons `(>= (- Y_j Y_t) {vnnlib_text.number(bench['output_margin'])})`. Every point of such a query is a",
            "counterexample of the exact claim, but not the other way round:",
            "",
            "- `sat` is a counterexample only if its witness satisfies the property exactly (check it:",
            "  `verify vnncomp-check RESULT --onnx ONNX --vnnlib PROPERTY`, in exact arithmetic and in float32);",
            "- `unsat` on every file is NOT a proof of the claim: misclassified slivers thinner than the",
            "  margins are never asked for. A margin too large misses real errors; one too small drowns in",
            "  the verifier's floating-point tolerance. Only relu-verify's exact check (`verify check`,",
            "  every region decided over exact rationals) proves the claim.",
        ]
    return "\n".join(lines) + "\n"


def write_benchmark(folder: Path, bench: dict[str, Any], onnx_bytes: bytes) -> Benchmark:
    """Write the whole folder (OSError propagates: the CLI turns it into one line)."""
    folder.mkdir(parents=True, exist_ok=True)
    onnx_file = folder / bench["onnx"]
    onnx_file.parent.mkdir(parents=True, exist_ok=True)
    onnx_file.write_bytes(onnx_bytes)
    written = vnnlib_text.write_properties(str(folder), bench)
    (folder / GENERATE_SCRIPT).write_text(generate_script(bench), encoding="utf-8")
    (folder / "README.md").write_text(readme_text(bench, len(written)), encoding="utf-8")
    return Benchmark(folder, bench["onnx"], tuple(written), bench["version"])
