# The helpers every end-to-end script of the tool shares (sourced, after setting curec and data):
# a temporary folder removed on exit, check NAME CONDITION... (stderr's tail shown on a failure),
# status_of COMMAND... (its exit status; stdout in $tmp/out, stderr in $tmp/err) and the tally.
fails=0; passes=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); else
    echo "FAILED: $name"; sed 's/^/  stderr: /' "$tmp/err" 2>/dev/null | tail -3; fails=$((fails + 1))
  fi
}
status_of() { "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }
