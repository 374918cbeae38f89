#!/usr/bin/env bash
# Faults, end to end: out of memory (real and injected with CUREC_FAIL_ALLOCATION), a full disk
# (a tiny tmpfs, where this machine lets us mount one), a device as the output, Ctrl-C during a
# save: each gives a clear error and loses nothing saved before. And FM/DeepFM models hold their
# encoder in the one model file (written as one unit).
#   cli_faults.sh PATH/TO/curec DATA_DIR
set -u
curec=$1
data=${CUREC_DATA_DIR:-${2:-}}
source "$(dirname "$0")/cli_checks.sh"
no_temporaries() { ! ls "$1" | grep -q '\.tmp\.'; }
mf=(train mf --data synthetic --quiet)

# Out of memory: a model no machine can hold (2^47 bytes and more: over any address space).
check "huge --factors exits 1" [ "$(status_of "$curec" "${mf[@]}" --factors 100000000000)" = 1 ]
check "huge --factors: out of memory, bytes and tensor named" grep -q "out of memory allocating [0-9]* bytes on cpu for a f32 tensor of shape \[" "$tmp/err"
check "huge --factors: says what to reduce" grep -q "reduce --batch-size/--factors" "$tmp/err"

# Out of memory mid-run (the 500th allocation fails, in its second epoch here) with --save over an existing model.
check "first model saved" [ "$(status_of "$curec" "${mf[@]}" --save "$tmp/m.curec")" = 0 ]
cp "$tmp/m.curec" "$tmp/m.before"
check "injected allocation failure exits 1" \
  [ "$(CUREC_FAIL_ALLOCATION=500 status_of "$curec" "${mf[@]}" --seed 7 --save "$tmp/m.curec")" = 1 ]
check "injected failure: out of memory message" grep -q "out of memory allocating [0-9]* bytes on cpu for a" "$tmp/err"
check "injected failure: the previous model is intact" cmp -s "$tmp/m.curec" "$tmp/m.before"
check "injected failure: no temporary left" no_temporaries "$tmp"
check "the model still predicts" [ "$(status_of "$curec" predict --model "$tmp/m.curec" --user 1 --item 1)" = 0 ]

# A device as the output: refused before training (as root, a rename would replace /dev/full).
if [ -e /dev/full ]; then
  check "--save /dev/full exits 1" [ "$(status_of "$curec" "${mf[@]}" --save /dev/full)" = 1 ]
  check "--save /dev/full: not a regular file" grep -q "/dev/full is not a regular file" "$tmp/err"
  check "/dev/full is still a device" [ -c /dev/full ]
  check "--log /dev/full exits 1" [ "$(status_of "$curec" "${mf[@]}" --log /dev/full)" = 1 ]
  check "--log /dev/full names the file" grep -q "/dev/full" "$tmp/err"
else
  echo "SKIPPED: no /dev/full on this machine"
fi

# A full disk: a 512 KiB tmpfs in a private mount namespace holds the first model; filled up,
# the second save fails with ENOSPC and the first model survives.
cat >"$tmp/full_disk.sh" <<EOF
disk="$tmp/disk"; mkdir -p "\$disk"
mount -t tmpfs -o size=512k tmpfs "\$disk" || exit 77
"$curec" ${mf[*]} --save "\$disk/m.curec" >/dev/null 2>&1 || { echo "the first save failed"; exit 1; }
cp "\$disk/m.curec" "$tmp/disk.before"
dd if=/dev/zero of="\$disk/filler" bs=4k 2>/dev/null
"$curec" ${mf[*]} --seed 3 --save "\$disk/m.curec" >/dev/null 2>"$tmp/disk.err"
echo \$? > "$tmp/disk.status"
cmp -s "\$disk/m.curec" "$tmp/disk.before" && touch "$tmp/disk.same"
ls "\$disk" > "$tmp/disk.ls"
EOF
if unshare -Urm true 2>/dev/null; then mount_ns=(unshare -Urm); else mount_ns=(unshare -m); fi
"${mount_ns[@]}" bash "$tmp/full_disk.sh" >"$tmp/ns.err" 2>&1
if ! [ -e "$tmp/disk.status" ]; then
  echo "SKIPPED: a full disk (no tmpfs could be mounted here: $(head -c 200 "$tmp/ns.err"))"
else
  cp "$tmp/disk.err" "$tmp/err"
  check "full disk: the save exits 1" [ "$(cat "$tmp/disk.status")" = 1 ]
  check "full disk: No space left on device" grep -q "No space left on device" "$tmp/disk.err"
  check "full disk: the message names the model file" grep -q "disk/m.curec failed" "$tmp/disk.err"
  check "full disk: the previous model is intact" [ -e "$tmp/disk.same" ]
  check "full disk: no temporary left" bash -c "! grep -q '[.]tmp[.]' '$tmp/disk.ls'"
fi

# FM and DeepFM: the encoder lives inside the model file, so model and encoder are one unit.
if [ -n "$data" ] && [ -e "$data/criteo/train-10k.txt" ]; then
  check "fm --save exits 0" [ "$(status_of "$curec" train fm --data criteo --epochs 1 --quiet --save "$tmp/fm.curec")" = 0 ]
  check "fm --save writes one file" bash -c "[ -s '$tmp/fm.curec' ] && ! [ -e '$tmp/fm.curec.encoder' ]"
  check "evaluate fm exits 0" [ "$(status_of "$curec" evaluate --model "$tmp/fm.curec" --data "$data/criteo/train-10k.txt" --json)" = 0 ]
  check "evaluate fm prints an auc" python3 -c "import json; j=json.loads(open('$tmp/out').read().splitlines()[-1]); assert 0.5 < j['auc'] <= 1"
else
  echo "SKIPPED: the FM single-file checks (no criteo sample under '$data')"
fi

echo "cli_faults: $passes passed, $fails failed"
[ $fails = 0 ]
