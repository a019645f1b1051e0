#!/usr/bin/env bash
# Lints the project's examples/ with coroscope-lint, using the compile commands of a configured build.
#   analyzer/lint-examples.sh <build dir> [coroscope-lint options...]
#   analyzer/lint-examples.sh build/ci-gcc --format json -o build/ci-gcc/lint-examples.json
# The build dir must have been configured (it provides compile_commands.json and the built coroscope-lint;
# COROSCOPE_LINT overrides the binary). Exit status is coroscope-lint's: 0 clean, 1 findings, 2 errors.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if (($# < 1)) || [[ $1 == -h || $1 == --help ]]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
shift
lint=${COROSCOPE_LINT:-$build/analyzer/coroscope-lint}
if [[ ! -x $lint ]]; then
  echo "lint-examples: $lint not found; build the coroscope-lint target first" >&2
  exit 2
fi
if [[ ! -f $build/compile_commands.json ]]; then
  echo "lint-examples: $build/compile_commands.json not found; configure the build first" >&2
  exit 2
fi
shopt -s nullglob
files=("$root"/examples/*.cpp)
if ((${#files[@]} == 0)); then
  echo "lint-examples: no examples/*.cpp to lint" >&2
  exit 0
fi
cd "$root"
exec "$lint" -p "$build" "$@" "${files[@]}"
