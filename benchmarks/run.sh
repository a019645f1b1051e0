#!/usr/bin/env bash
# Runs the benchmark catalogue on every runtime that is built and writes one Google Benchmark JSON per
# runtime: DIR/floor.json, DIR/coroscope.json, DIR/asio.json, DIR/asyncio.json, DIR/uvloop.json.
#
#   benchmarks/run.sh quick|full|instructions --out DIR [--build DIR] [--runtimes "floor asio ..."]
#                     [--repetitions N] [--min-time SECONDS] [--filter REGEX]
#
#   quick         a few seconds per runtime, for the main job: 3 repetitions (1 for Python), short runs
#   full          9 repetitions, enough for coroscope-report compare to call a change significant
#   instructions  each deterministic workload of floor and coroscope under valgrind's callgrind, at N and
#                 2N iterations; (I(2N) - I(N)) / N is written as the counter instructions_per_op (and
#                 instructions_per_item for sized workloads) to DIR/<runtime>-instructions.json. Exact
#                 and repeatable where wall time drifts: gate on it. Needs valgrind.
#
# --build is the CMake build directory holding benchmarks/bench_* (default: build/ci-gcc, the preset that
# builds the benchmarks). Runtimes whose suite is not built are skipped with a note, unless named in
# --runtimes, which makes them required. Python rows use Debian's python3 (python3-uvloop), or $PYTHON.
# Exit status: 0 all suites ran, 1 a suite failed, 2 usage error or a required suite is missing.
set -uo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
[[ $mode == -h || $mode == --help ]] && { usage; exit 0; }
[[ $mode == quick || $mode == full || $mode == instructions ]] ||
  { usage >&2; die "first argument must be quick, full or instructions"; }
shift
out="" build="$root/build/ci-gcc" runtimes="" reps="" min_time="" filter="."
while (($#)); do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --runtimes) runtimes=${2:?--runtimes needs a list}; shift 2 ;;
    --repetitions) reps=${2:?--repetitions needs a number}; shift 2 ;;
    --min-time) min_time=${2:?--min-time needs seconds}; shift 2 ;;
    --filter) filter=${2:?--filter needs a regex}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ -n $out ]] || die "--out DIR is required"
[[ -z $reps || $reps =~ ^[1-9][0-9]*$ ]] || die "--repetitions: '$reps' is not a positive integer"
[[ -z $min_time || $min_time =~ ^[0-9]*\.?[0-9]+$ ]] || die "--min-time: '$min_time' is not a number of seconds"

if [[ $mode == quick ]]; then
  cxx_reps=${reps:-3} cxx_min=${min_time:-0.02} py_reps=${reps:-1} py_min=${min_time:-0.01}
else
  cxx_reps=${reps:-9} cxx_min=${min_time:-0.2} py_reps=${reps:-9} py_min=${min_time:-0.2}
fi

python=${PYTHON:-}
if [[ -z $python ]]; then
  if [[ -x /usr/bin/python3 ]]; then python=/usr/bin/python3; else python=$(command -v python3 || true); fi
fi

revision=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ $revision != unknown ]] && ! git -C "$root" diff --quiet HEAD 2>/dev/null; then revision+="-dirty"; fi

if [[ $mode == instructions ]]; then
  [[ -z $reps && -z $min_time ]] || die "instructions: --repetitions and --min-time do not apply (counts are exact)"
  [[ -n $python ]] || die "instructions: needs python3"
  exec "$python" "$root/benchmarks/instructions.py" --out "$out" --build "$build" \
    --runtimes "${runtimes:-floor coroscope}" --filter "$filter" --revision "$revision"
fi

required=" $runtimes "
[[ -z $runtimes ]] && runtimes="floor coroscope asio asyncio uvloop"
mkdir -p "$out" || die "cannot create $out"

failed=0 ran=()
for rt in $runtimes; do
  json="$out/$rt.json"
  case $rt in
    floor|coroscope|asio)
      exe="$build/benchmarks/bench_$rt"
      if [[ ! -x $exe ]]; then
        [[ $required == *" $rt "* ]] && die "$rt: $exe is not built (cmake --build --preset ci-gcc)"
        echo "run.sh: $rt: not built, skipped ($exe)" >&2; continue
      fi
      echo "run.sh: $rt ($mode: $cxx_reps repetitions, min time $cxx_min s)" >&2
      # Google Benchmark 1.7.1 wants --benchmark_min_time as a bare number of seconds.
      "$exe" --benchmark_min_time="$cxx_min" --benchmark_repetitions="$cxx_reps" \
        --benchmark_filter="$filter" --benchmark_out="$json" --benchmark_out_format=json \
        --benchmark_context="git_revision=$revision,mode=$mode" >&2
      ;;
    asyncio|uvloop)
      if [[ -z $python ]] || { [[ $rt == uvloop ]] && ! "$python" -c 'import uvloop' 2>/dev/null; }; then
        [[ $required == *" $rt "* ]] && die "$rt: no python3 with ${rt} (Debian: python3 python3-uvloop)"
        echo "run.sh: $rt: no python3 with it, skipped" >&2; continue
      fi
      echo "run.sh: $rt ($mode: $py_reps repetitions, min time $py_min s)" >&2
      "$python" "$root/benchmarks/python/asyncio_bench.py" --loop "$rt" --out "$json" \
        --min-time "$py_min" --repetitions "$py_reps" --filter "$filter" \
        --context "git_revision=$revision" --context "mode=$mode" >&2
      ;;
    *) die "unknown runtime '$rt' (floor coroscope asio asyncio uvloop)" ;;
  esac
  status=$?
  if ((status != 0)); then
    echo "run.sh: $rt failed (exit $status)" >&2; failed=1
  elif [[ ! -s $json ]]; then
    echo "run.sh: $rt wrote no JSON" >&2; failed=1
  else
    ran+=("$json")
  fi
done

echo "run.sh: wrote ${ran[*]:-nothing}" >&2
if ((${#ran[@]})); then
  echo "run.sh: next: coroscope-report report --out reports/out$(printf ' --bench %s' "${ran[@]}")" >&2
fi
exit $failed
