#!/usr/bin/env bash
# Mutation score of the soundness-critical code (issue 18). Not part of CI: about 30 min in all.
#
#   bench/mutation.sh              every group below
#   bench/mutation.sh stable       only the modules nobody is changing (measures, geometry, ...)
#   bench/mutation.sh merge replay named groups
#
# Each group runs mutmut (pip install -e '.[mutation]') in its own copy of the working tree under
# $MUTATION_DIR (default: a temp dir), so the checkout is never touched, with a focused test subset.
# Survivors go to $MUTATION_OUT (default bench/mutation-survivors.txt), one "group mutant status"
# a line; the script prints each group's score and the total. docs/testing.md lists the survivors.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
MUTMUT="$(dirname "$PY")/mutmut"
WORK="${MUTATION_DIR:-$(mktemp -d /tmp/verify-mutation.XXXXXX)}"
OUT="${MUTATION_OUT:-$ROOT/bench/mutation-survivors.txt}"
JOBS="${MUTATION_JOBS:-2}"

# group | modules to mutate | tests that must kill them
GROUPS_TABLE="
measures|verify/geometry/measure.py verify/geometry/planar.py verify/geometry/cones.py verify/core/linear.py verify/smt/smtlib.py verify/geometry/solid.py|tests/test_measures.py
float32|verify/check/float32_band.py|tests/test_float32_band.py
search|verify/check/regions.py verify/smt/solver.py verify/check/claims.py verify/core/claim.py|tests/test_exact_2d.py tests/test_planted.py tests/test_budgets.py
confirm|verify/check/counterexamples.py verify/check/pipeline.py|tests/test_exact_2d.py tests/test_cones_n3.py tests/test_witness_checks.py
merge|verify/check/parallel.py|tests/test_parallel.py
replay|verify/smt/replay.py|tests/test_replay.py tests/test_encodings.py
verdict|verify/cli/check.py|tests/test_cli.py
"
STABLE="measures float32"

[ -x "$MUTMUT" ] || { echo "mutation.sh: mutmut not found next to $PY; pip install -e '.[mutation]'" >&2; exit 2; }
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(measures float32 search confirm merge replay verdict)
[ "${wanted[*]}" = "stable" ] && read -r -a wanted <<< "$STABLE"

toml_list() { local out="" x; for x in "$@"; do out="$out\"$x\", "; done; echo "[${out%, }]"; }

: > "$OUT"
killed_all=0; total_all=0
for group in "${wanted[@]}"; do
    line="$(grep "^$group|" <<< "$GROUPS_TABLE" || true)"
    [ -n "$line" ] || { echo "mutation.sh: no group '$group'" >&2; exit 2; }
    IFS='|' read -r _ modules tests <<< "$line"
    dir="$WORK/$group"
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dir" 2>/dev/null || true)
    # the group's own [tool.mutmut] replaces any in the copy's pyproject.toml
    "$PY" - "$dir/pyproject.toml" <<'PYEOF'
import re, sys
p = sys.argv[1]
text = open(p).read()
open(p, "w").write(re.sub(r"\n\[tool\.mutmut\]\n(?:(?!\n\[).)*", "\n", text, flags=re.S))
PYEOF
    # shellcheck disable=SC2086
    cat >> "$dir/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = ["verify"]
only_mutate = $(toml_list $modules)
also_copy = ["models", "encodings", "verify.toml", "README.md", "docs", "bench"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-x", "-q"]
pytest_add_cli_args_test_selection = $(toml_list $tests)
TOML
    start=$(date +%s)
    (cd "$dir" && "$MUTMUT" run --max-children "$JOBS" > mutmut-run.log 2>&1) || true
    (cd "$dir" && "$MUTMUT" export-cicd-stats > /dev/null 2>&1 && "$MUTMUT" results > survivors.txt 2>&1) || true
    read -r killed total <<< "$("$PY" -c "
import json, sys
s = json.load(open('$dir/mutants/mutmut-cicd-stats.json'))
print(s['killed'] + s['timeout'] + s['segfault'], s['total'] - s['skipped'])
" 2>/dev/null || echo "0 0")"
    # timeouts count as killed (the mutant made the tests hang); everything else listed is a survivor
    sed -n "s/^ *\(verify\.[^:]*\): \(.*\)$/$group \1 \2/p" "$dir/survivors.txt" | grep -v ' timeout$' >> "$OUT" || true
    killed_all=$((killed_all + killed)); total_all=$((total_all + total))
    echo "$group: $killed/$total killed ($(( total ? 100 * killed / total : 0 ))%), $(( $(date +%s) - start )) s; log: $dir/mutmut-run.log"
done
echo "mutation score: $killed_all/$total_all killed ($(( total_all ? 100 * killed_all / total_all : 0 ))%); survivors in $OUT"
