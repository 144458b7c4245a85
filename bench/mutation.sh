#!/usr/bin/env bash
# Mutation score of the soundness-critical code (issue 18). Not part of CI (measured CPU and wall
# times per group, and the idle-machine equivalent, in docs/testing.md).
#
#   bench/mutation.sh              replay confirm regression search measures merge verdict
#   bench/mutation.sh stable       measures and float32 only
#   bench/mutation.sh merge replay named groups (float32: the float32 band, not in the default)
#
# Each group runs mutmut (pip install -e '.[mutation]') in its own copy of the last commit under
# $MUTATION_DIR (default: a temp dir), so the checkout is never touched, with a focused test subset,
# niced (MUTATION_NICE, default 10). MUTATION_SAMPLE=1 runs every mutant of the sampled groups.
# Survivors go to $MUTATION_OUT (default bench/mutation-survivors.txt), one "group mutant status"
# a line; the script prints each group's score and the total. docs/testing.md lists the survivors.
set -euo pipefail
set -f  # no pathname expansion: the table holds regular expressions and mutant-name patterns

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
MUTMUT="$(dirname "$PY")/mutmut"
WORK="${MUTATION_DIR:-$(mktemp -d /tmp/verify-mutation.XXXXXX)}"
OUT="${MUTATION_OUT:-$ROOT/bench/mutation-survivors.txt}"
JOBS="${MUTATION_JOBS:-2}"
TIMEOUT_MULTIPLIER="${MUTATION_TIMEOUT_MULTIPLIER:-4.0}"  # mutmut's own limit: only a backstop
TIMEOUT_CONSTANT="${MUTATION_TIMEOUT_CONSTANT:-30.0}"     # (the watchdog below does the work)
CPU_FLOOR="${MUTATION_CPU_FLOOR:-2.0}"        # CPU seconds a test may always use in a mutant run
CPU_FACTOR="${MUTATION_CPU_FACTOR:-4.0}"      # ... or this many times its CPU seconds in the stats run
WALL_FLOOR=10.0                               # wall seconds for waits that burn no CPU (a child that deadlocked after fork), plus
WALL_FACTOR=10.0                              # this many times the stats run's wall seconds
export VERIFY_HYPOTHESIS_PROFILE=ci           # derandomized hypothesis: the same examples for every mutant

# One group a line, fields split by "|":
#   group | modules to mutate | tests that must kill them | pytest -k filter
#   | functions and classes left unmutated ("Class.method", "outer.inner" for a nested def; "=f":
#     mutate only f in its module): process plumbing, display, statistics, solver configuration,
#     never a verdict, measure, search, merge or exit-code decision (docs/testing.md). The copy gets
#     "# pragma: no mutate block" on their header lines; the checkout is never touched.
#   | regular expressions (space-separated, \s for a space) of lines left unmutated: names of
#     exported queries, nothing that is decided
#   | per-module test map "module:file,file ...": a mutant of that module runs only those test
#     files of the group's set (the tests written for that module), not every test that happens
#     to call it (search: the 16 s of end-to-end tests that run every function)
#   | sample: 1 runs every mutant; k in 2, 5, 10 runs those whose number is a multiple of k (a
#     systematic sample, stratified by function, independent of cost; MUTATION_SAMPLE=1 runs all)
GROUPS_TABLE="
measures|verify/geometry/measure.py verify/geometry/planar.py verify/geometry/cones.py verify/core/linear.py verify/smt/smtlib.py verify/geometry/solid.py verify/geometry/lp.py verify/geometry/orthant.py verify/geometry/triangulate.py|tests/test_measures.py tests/test_counterexamples.py tests/test_cones_n3.py tests/test_mutation_measures.py tests/test_orthant.py tests/test_mutation_measures2.py tests/test_speed_hot_path.py|not trained and not smallest_magnitude and not threshold and not sequence_length and not time_budget and not too_large and not n3_report and not answers_zero|digits|||2
search|verify/check/regions.py verify/smt/solver.py verify/check/claims.py verify/core/claim.py verify/geometry/integer_cone.py|tests/test_search_core.py tests/test_faults.py tests/test_exact_2d.py tests/test_mutation_fresh.py tests/test_mutation_search.py tests/test_mutation_search2.py tests/test_mutation_claims.py tests/test_mutation_confirm.py tests/test_mutation_hints.py tests/test_speed_geometry.py tests/test_tasks.py tests/test_tasks_median.py tests/test_speed_hot_path.py|not two_jobs and not n3 and not m22 and not random_small and not monte_carlo and not angular_scan and not argmedian_is_the_2nd and not 4000_decisions and not interrupt_from_another_thread and not train_median and not pytest_marker and not bundled_median and not eps_is_exact and not z3_confirms and not trained_median|SmtQuery KthArgmaxClaim.statement ExactSolver.__init__ SolverStats.solver_name|name=f.region\s|verify.core.claim:test_speed_hot_path,test_mutation_search2,test_mutation_claims,test_tasks,test_tasks_median verify.geometry.integer_cone:test_speed_hot_path,test_mutation_search2,test_speed_geometry,test_mutation_search,test_exact_2d verify.smt.solver:test_speed_hot_path,test_mutation_search2,test_mutation_search,test_faults,test_search_core verify.check.regions:test_mutation_search2,test_search_core,test_mutation_search,test_exact_2d,test_mutation_fresh,test_faults verify.check.claims:test_speed_hot_path,test_mutation_search2,test_mutation_confirm,test_mutation_hints,test_exact_2d,test_mutation_fresh,test_faults|5
confirm|verify/check/counterexamples.py verify/check/pipeline.py|tests/test_counterexamples.py tests/test_exact_2d.py tests/test_mutation_fresh.py tests/test_mutation_confirm.py tests/test_witness_checks.py tests/test_uncertified_cones.py tests/test_mutation_confirm2.py tests/test_speed_hot_path.py|not monte_carlo and not random_small||||1
merge|verify/check/parallel.py verify/check/checkpoint.py|tests/test_parallel.py tests/test_mutation_merge.py tests/test_mutation_merge2.py tests/test_checkpoint.py|merge or worker_count or split_prefixes or mutation or mpf_and_rationals or sigkill or corrupted or resume|ParallelRegions _init_worker _context region_source =finished =run_key =encode =decode|^\s*"\w+":\sFORMAT, ^\s*"\w+":\soptions\.||2
replay|verify/smt/replay.py verify/smt/reader.py|tests/test_replay.py tests/test_smtlib_reader.py tests/test_mutation_replay.py|not cvc5_agrees and not bundled_encodings|solver_version _import_cvc5|||1
verdict|verify/cli/check.py verify/cli/run.py verify/cli/common.py verify/cli/main.py|tests/test_cli.py tests/test_cli_edges.py tests/test_mutation_verdict.py tests/test_mutation_verdict2.py|not bundled_models and not python_dash_m and not torch_warnings and not closed_stdout and not ci_example and not train_refuses and not manifest and not help|Progress _clock register _write_junit Outputs SignalStop.__enter__ SignalStop.__exit__ SignalStop._watch SignalStop._handler _check_on_subtrees =exit_code_for =worst_exit_code =main|^\s*enabled\s=\sargs\.progress ^\s*progress\s=\sProgress\(||2
regression|verify/check/regression.py verify/check/worst_case.py verify/geometry/moments.py|tests/test_tasks_median.py tests/test_moments.py tests/test_mutation_regression.py|not train_median and not pytest_marker and not bundled_median_models and not eps_is_exact|||verify.geometry.moments:test_moments,test_mutation_regression verify.check.worst_case:test_mutation_regression,test_tasks_median verify.check.regression:test_mutation_regression,test_tasks_median|2
float32|verify/check/float32_band.py|tests/test_float32_band.py||||1
"
# Lines left unmutated in every group: the arguments of a raise (message wording and the line a
# message points at; whether to raise is decided on the lines before, which are mutated).
PATTERNS_ALL='^\s*raise\s'
STABLE="measures float32"

[ -x "$MUTMUT" ] || { echo "mutation.sh: mutmut not found next to $PY; pip install -e '.[mutation]'" >&2; exit 2; }
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(replay confirm regression search measures merge verdict)
[ "${wanted[*]}" = "stable" ] && read -r -a wanted <<< "$STABLE"

pct() { "$PY" -c "import sys; k, t = map(int, sys.argv[1:]); print(f'{100 * k / t:.1f}%' if t else '-')" "$1" "$2"; }
# CPU seconds (user + sys) of the finished children of this shell, from `times` written to $WORK/.times
# by the loop itself (a `times` inside $( ) would only see the subshell's children)
child_cpu() { tail -1 "$WORK/.times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%d\n", t }'; }
toml_literals() { local out="" x; for x in "$@"; do out="$out'$x', "; done; echo "[${out%, }]"; }  # no escapes: regexes
toml_list() { local out="" x; for x in "$@"; do out="$out\"$x\", "; done; echo "[${out%, }]"; }

: > "$OUT"
run_start=$(date +%s)
killed_all=0; total_all=0
for group in "${wanted[@]}"; do
    line="$(grep "^$group|" <<< "$GROUPS_TABLE" || true)"
    [ -n "$line" ] || { echo "mutation.sh: no group '$group'" >&2; exit 2; }
    IFS='|' read -r _ modules tests filter skip patterns testmap sample <<< "$line"
    sample="${MUTATION_SAMPLE:-${sample:-1}}"
    case "$sample" in 1) names=() ;; 2) names=('*[02468]') ;; 5) names=('*[05]') ;; 10) names=('*0') ;;
        *) echo "mutation.sh: sample must be 1, 2, 5 or 10, not '$sample'" >&2; exit 2 ;; esac
    extra=(-p no:cacheprovider -x -q); [ -n "$filter" ] && extra+=(-k "$filter")
    present=""; for f in $tests; do [ -e "$ROOT/$f" ] && present="$present $f"; done; tests="$present"
    dir="$WORK/$group"
    rm -rf "$dir" && mkdir -p "$dir"
    if [ -n "${MUTATION_WORKTREE:-}" ]; then  # the working tree as it stands, uncommitted edits included
        (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dir" 2>/dev/null || true)
    else  # the last commit: what a score is recorded against, whatever is being edited meanwhile
        git -C "$ROOT" archive HEAD | tar -x -C "$dir"
    fi
    # the group's own [tool.mutmut] replaces any in the copy's pyproject.toml
    "$PY" - "$dir/pyproject.toml" <<'PYEOF'
import re, sys
p = sys.argv[1]
text = open(p).read()
open(p, "w").write(re.sub(r"\n\[tool\.mutmut\]\n(?:(?!\n\[).)*", "\n", text, flags=re.S))
PYEOF
    # shellcheck disable=SC2086
    [ -z "$skip" ] || "$PY" - "$dir" $modules -- $skip <<'PYEOF'
import ast, sys
root, rest = sys.argv[1], sys.argv[2:]
cut = rest.index("--")
modules, names = rest[:cut], set(rest[cut + 1:])
keep = {name[1:] for name in names if name.startswith("=")}  # "=f": in f's module, mutate f only
for module in modules:
    path = f"{root}/{module}"
    lines = open(path).read().split("\n")
    defs = (ast.FunctionDef, ast.ClassDef)
    found = {n.name: n for n in ast.parse("\n".join(lines)).body if isinstance(n, defs)}
    for outer in list(found.values()):  # methods, and functions nested in a top-level function
        inner = outer.body if isinstance(outer, ast.ClassDef) else [n for n in ast.walk(outer) if n is not outer]
        found.update({f"{outer.name}.{m.name}": m for m in inner if isinstance(m, defs)})
    only = keep & set(found)
    fenced = [n for name, n in found.items() if "." not in name and name not in only] if only else \
        [found[name] for name in names if name in found]
    for node in fenced:  # a "block" pragma on the header line leaves the whole body unmutated
        header = node.body[0].lineno - 2
        while lines[header].strip().startswith("#") or not lines[header].strip():
            header -= 1  # comment lines between the header and the first statement
        assert lines[header].rstrip().endswith(":"), (module, node.name, lines[header])
        lines[header] += "  # pragma: no mutate block"
    open(path, "w").write("\n".join(lines))
PYEOF
    # Two additions to the copy's tests/conftest.py (the checkout is never touched):
    # - order: mutmut runs a mutant's tests fastest first by their *call* time, and stops at the
    #   first failure; a test with a heavy fixture (a whole check in its setup) looks free and
    #   ran first for every mutant. The stats run records each test's setup + call + teardown
    #   (CPU and wall seconds), and mutant runs sort their tests by that.
    # - watchdog: a hung mutant must cost seconds. In a mutant run a test may use
    #   max(CPU_FLOOR, CPU_FACTOR x its stats-run CPU seconds) of this process's CPU time, and
    #   WALL_FLOOR + WALL_FACTOR x its stats-run wall seconds (for waits that burn no CPU); past
    #   either the process exits 36, which mutmut records as "timeout". CPU time, not wall time,
    #   so that other people's load on the machine does not turn slow survivors into timeouts.
    #   mutmut's own wall limit, (call time of the mutant's tests + timeout_constant) x
    #   timeout_multiplier, is only the backstop.
    # the per-module test map as a Python dict literal: {"verify.core.claim": ["test_tasks.py", ...]}
    testmap_py="{$(for entry in $testmap; do printf '"%s": [%s], ' "${entry%%:*}" "$(sed 's/\([^,]*\)/"\1.py"/g' <<< "${entry#*:}")"; done)}"
    cat >> "$dir/tests/conftest.py" <<PYEOF


# ---- added by bench/mutation.sh to its copy only: test order and a watchdog for mutant runs ----
import json as _mw_json
import threading as _mw_threading
import time as _mw_time

_MW_FILE = "mutation-durations.json"  # in mutants/, the working folder of every mutmut pytest run
_MW_SEEN: dict[str, list[float]] = {}
_MW_KNOWN: dict[str, list[float]] | None = None
_MW_TESTS_BY_MODULE: dict[str, list[str]] = $testmap_py


def _mw_mode() -> str:
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    return "mutant" if "__mutmut_" in name else name


def _mw_known() -> dict[str, list[float]]:
    global _MW_KNOWN
    if _MW_KNOWN is None:
        try:
            _MW_KNOWN = _mw_json.load(open(_MW_FILE))
        except (OSError, ValueError):
            _MW_KNOWN = {}
    return _MW_KNOWN


def _mw_watch(done: "_mw_threading.Event", nodeid: str, cpu_limit: float, wall_limit: float) -> None:
    cpu0, wall0 = _mw_time.process_time(), _mw_time.monotonic()
    while not done.wait(0.2):
        if _mw_time.process_time() - cpu0 > cpu_limit or _mw_time.monotonic() - wall0 > wall_limit:
            with open("mutation-timeouts.log", "a") as log:  # which test of which mutant, for the record
                log.write(f"{os.environ.get('MUTANT_UNDER_TEST')} {nodeid} cpu>{cpu_limit:.1f} or wall>{wall_limit:.1f}\n")
            os._exit(36)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _mw_mode() == "stats" and _MW_SEEN:
        with open(_MW_FILE, "w") as out:
            _mw_json.dump(_MW_SEEN, out)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if _mw_mode() == "mutant":
        mutant = os.environ.get("MUTANT_UNDER_TEST", "")
        wanted = [files for module, files in _MW_TESTS_BY_MODULE.items() if mutant.startswith(module + ".")]
        if wanted:  # only the tests written for the mutant's module
            items[:] = [item for item in items if item.nodeid.split("::")[0].rsplit("/", 1)[-1] in wanted[0]]
        known = _mw_known()
        items.sort(key=lambda item: known.get(item.nodeid, [$WALL_FLOOR, $WALL_FLOOR])[1])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    mode = _mw_mode()
    done = _mw_threading.Event()
    if mode == "mutant":
        cpu, wall = _mw_known().get(item.nodeid, [$WALL_FLOOR, $WALL_FLOOR])
        _mw_threading.Thread(target=_mw_watch, daemon=True,
                             args=(done, item.nodeid, max($CPU_FLOOR, $CPU_FACTOR * cpu), $WALL_FLOOR + $WALL_FACTOR * wall)).start()
    cpu0, wall0 = _mw_time.process_time(), _mw_time.monotonic()
    yield
    done.set()
    if mode == "stats":
        _MW_SEEN[item.nodeid] = [_mw_time.process_time() - cpu0, _mw_time.monotonic() - wall0]
PYEOF
    cat >> "$dir/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = ["verify"]
only_mutate = $(toml_list $modules)
also_copy = ["models", "encodings", "verify.toml", "README.md", "docs", "bench"]
pytest_add_cli_args = $(toml_list "${extra[@]}")
timeout_multiplier = $TIMEOUT_MULTIPLIER
process_isolation = "forkserver"
timeout_constant = $TIMEOUT_CONSTANT
pytest_add_cli_args_test_selection = $(toml_list $tests)
do_not_mutate_patterns = $(toml_literals $PATTERNS_ALL $patterns)
TOML
    start=$(date +%s); load_start="$(cut -d' ' -f1 /proc/loadavg)"; times > "$WORK/.times"; cpu_start="$(child_cpu)"
    commit="$(git -C "$ROOT" rev-parse --short HEAD)"; [ -n "${MUTATION_WORKTREE:-}" ] && commit="$commit+worktree"
    (cd "$dir" && nice -n "${MUTATION_NICE:-10}" "$MUTMUT" run --max-children "$JOBS" "${names[@]}" > mutmut-run.log 2>&1) || true
    # the score from mutmut's per-file results (mutants/**/*.meta), counting only the sampled mutants;
    # timeouts and segfaults count as killed (the tests did not pass), "skipped" is left out, every
    # other status (survived, no tests, suspicious, not checked) is a survivor
    read -r killed total timeouts <<< "$("$PY" - "$dir/mutants" "$sample" "$group" "$OUT" <<'PYEOF'
import glob, json, re, sys
root, k, group, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
status = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked",
          -11: "segfault", -9: "segfault", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          1: "killed", 3: "killed"}
killed = total = timeouts = 0
survivors = []
for meta in sorted(glob.glob(f"{root}/**/*.py.meta", recursive=True)):
    for key, code in json.load(open(meta))["exit_code_by_key"].items():
        if int(re.search(r"__mutmut_(\d+)$", key).group(1)) % k:
            continue
        word = status.get(code, "suspicious")
        if word == "skipped":
            continue
        total += 1
        if word in ("killed", "timeout", "segfault"):
            killed += 1
            timeouts += word == "timeout"
        else:
            survivors.append(f"{group} {key} {word}")
with open(out, "a") as f:
    f.writelines(line + "\n" for line in survivors)
print(killed, total, timeouts)
PYEOF
)"
    killed_all=$((killed_all + killed)); total_all=$((total_all + total))
    load_end="$(cut -d' ' -f1 /proc/loadavg)"; times > "$WORK/.times"; cpu="$(( $(child_cpu) - cpu_start ))"
    echo "$group: $killed/$total killed ($timeouts by timeout) = $(pct "$killed" "$total"), sample 1/$sample, $(( $(date +%s) - start )) s wall, $cpu s CPU, load $load_start -> $load_end, commit $commit; log: $dir/mutmut-run.log"
done
echo "mutation score: $killed_all/$total_all killed = $(pct "$killed_all" "$total_all"), $(( $(date +%s) - run_start )) s; survivors in $OUT"
