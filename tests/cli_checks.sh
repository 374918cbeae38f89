# The helpers every end-to-end script of the tool shares (sourced, after setting curec and data):
# a temporary folder removed on exit, check NAME CONDITION... (stderr's tail shown on a failure),
# status_of COMMAND... (its exit status; stdout in $tmp/out, stderr in $tmp/err), field_of FILE KEY
# (KEY of the JSON object on FILE's last line), close A B TOL (|A - B| <= TOL) and the tally.
fails=0; passes=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); else
    echo "FAILED: $name"; sed 's/^/  stderr: /' "$tmp/err" 2>/dev/null | tail -3; fails=$((fails + 1))
  fi
}
status_of() { "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }
field_of() { tail -n 1 "$1" | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$2'])"; }
close() { python3 -c "import sys; sys.exit(0 if abs(float('$1') - float('$2')) <= float('$3') else 1)"; }
