#!/usr/bin/env bash
# Faults, end to end: out of memory (real and injected with CUREC_FAIL_ALLOCATION), a full disk
# (a tiny tmpfs, where this machine lets us mount one), a device as the output, Ctrl-C during a
# save: each gives a clear error and loses nothing saved before. Outputs that are inputs, or
# that cannot be written, are refused before any work. And FM/DeepFM models hold their
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

# Outputs never destroy inputs (app/output_paths.h): every output is checked against every file
# the run reads, and against the other outputs, before any work; a refused run changes nothing.
mkdir -p "$tmp/ml"
awk 'BEGIN{for(u=1;u<=60;u++)for(i=1;i<=40;i++) if((u*7+i*3)%4==0) printf "%d\t%d\t%d\t%d\n",u,i,1+(u+i)%5,880000000+u*100+i}' \
  > "$tmp/ml/u.data"
echo "1|Toy Story (1995)|01-Jan-1995||x" > "$tmp/ml/u.item"
cp "$tmp/ml/u.data" "$tmp/r.tsv"; head -n 5 "$tmp/r.tsv" > "$tmp/t.tsv"
for f in ml/u.data ml/u.item r.tsv t.tsv; do cp "$tmp/$f" "$tmp/$(basename "$f").before"; done
few=(--epochs 1 --quiet)
refused() {  # refused NAME FILE MESSAGE CURECARGS...: exit 1, the message, FILE unchanged
  local name=$1 file=$2 msg=$3; shift 3
  check "$name exits 1" [ "$(status_of "$curec" "$@")" = 1 ]
  check "$name: says why" grep -qF -- "$msg" "$tmp/err"
  check "$name: $(basename "$file") unchanged" cmp -s "$tmp/$file" "$tmp/$(basename "$file").before"
}
refused "--log onto --data" r.tsv "is the data the run reads" train mf --data "$tmp/r.tsv" "${few[@]}" --log "$tmp/r.tsv"
refused "--log onto the split file" t.tsv "a file the run reads (--split" \
  train mf --data "$tmp/r.tsv" --split "test:$tmp/t.tsv" "${few[@]}" --log "$tmp/t.tsv"
refused "--save onto a file inside the MovieLens folder" ml/u.item "(--data $tmp/ml/u.item)" \
  train mf --data "$tmp/ml" "${few[@]}" --save "$tmp/ml/u.item"
refused "--curves onto the folder's ratings" ml/u.data "is the data the run reads" \
  train mf --data "$tmp/ml" "${few[@]}" --curves "$tmp/ml/u.data"
refused "--save onto tsv:FILE" r.tsv "is the data the run reads" train mf --data "tsv:$tmp/r.tsv" "${few[@]}" --save "$tmp/r.tsv"
ln -s r.tsv "$tmp/r.link"
refused "--checkpoint onto --data through a link" r.tsv "is the data the run reads" \
  train mf --data "$tmp/r.tsv" "${few[@]}" --checkpoint "$tmp/r.link"
if [ -n "$data" ] && [ -e "$data/criteo/train-10k.txt" ]; then
  head -n 400 "$data/criteo/train-10k.txt" > "$tmp/c.txt"; cp "$tmp/c.txt" "$tmp/c.txt.before"
  refused "--save onto criteo:FILE" c.txt "is the data the run reads" train fm --data "criteo:$tmp/c.txt" "${few[@]}" --save "$tmp/c.txt"
else
  echo "SKIPPED: --save onto criteo:FILE (no criteo sample under '$data')"
fi
"$curec" train mf --data synthetic "${few[@]}" --checkpoint "$tmp/c.ckpt" > /dev/null 2>&1
cp "$tmp/c.ckpt" "$tmp/c.ckpt.before"
refused "--log onto --resume" c.ckpt "a file the run reads (--resume" \
  train mf --data synthetic --epochs 2 --quiet --resume "$tmp/c.ckpt" --log "$tmp/c.ckpt"
check "--checkpoint may continue in the file it resumed from" \
  [ "$(status_of "$curec" train mf --data synthetic --epochs 2 --quiet --resume "$tmp/c.ckpt" --checkpoint "$tmp/c.ckpt")" = 0 ]
check "--save m --curves m exits 1" [ "$(status_of "$curec" train mf --data synthetic "${few[@]}" --save "$tmp/m1" --curves "$tmp/m1")" = 1 ]
check "--save m --curves m: names both" grep -qF -- "--save $tmp/m1 and --curves $tmp/m1 name one file" "$tmp/err"
check "--save m --curves m: writes neither" [ ! -e "$tmp/m1" ]
for flag in --save --data --log --curves --checkpoint --resume; do
  check "$flag '' is a usage error (exit 2)" [ "$(status_of "$curec" train mf --data synthetic "${few[@]}" $flag '')" = 2 ]
  check "$flag '': says the value is empty" grep -q "an empty value names no file" "$tmp/err"
done
check "evaluate --data '' exits 2" [ "$(status_of "$curec" evaluate --model "$tmp/m.curec" --data '')" = 2 ]
check "reproduce --curves '' exits 2" [ "$(status_of "$curec" reproduce --only mf --curves '')" = 2 ]
check "predict --model '' exits 2" [ "$(status_of "$curec" predict --model '' --user 1 --item 1)" = 2 ]
echo "an earlier run's log" > "$tmp/prev.log"
check "a run that fails on its data exits 1" [ "$(status_of "$curec" train mf --data "$tmp/no-such.tsv" --log "$tmp/prev.log")" = 1 ]
check "a run that fails on its data leaves the previous log" grep -q "an earlier run's log" "$tmp/prev.log"
mkfifo "$tmp/fifo"
check "--log onto a FIFO exits 1 at once" [ "$(status_of timeout 20 "$curec" train mf --data synthetic "${few[@]}" --log "$tmp/fifo")" = 1 ]
check "--log onto a FIFO: not a regular file" grep -q "is not a regular file" "$tmp/err"
long=$(printf 'n%.0s' $(seq 1 250))
check "a name with no room for .tmp.PID exits 1" [ "$(status_of "$curec" train mf --data synthetic --epochs 50 --save "$tmp/$long")" = 1 ]
check "a name with no room for .tmp.PID: says so before training" \
  bash -c "grep -q \"over the folder's limit of\" '$tmp/err' && ! grep -q '^epoch' '$tmp/out'"

# A read-only folder fails before training (as root a read-only mount: permissions bind no root).
mkdir -p "$tmp/ro"
printf '%s\n' \
  'if [ "$(id -u)" = 0 ]; then mount -t tmpfs -o ro,size=64k tmpfs "$1/ro" || exit 77; else chmod 555 "$1/ro"; fi' \
  '"$2" train mf --data synthetic --epochs 50 --quiet --save "$1/ro/m.curec" > "$1/ro.out" 2> "$1/ro.err"' \
  'echo $? > "$1/ro.status"' > "$tmp/ro.sh"
if [ "$(id -u)" = 0 ]; then "${mount_ns[@]}" bash "$tmp/ro.sh" "$tmp" "$curec" > /dev/null 2>&1
else bash "$tmp/ro.sh" "$tmp" "$curec"; chmod 755 "$tmp/ro"; fi
if [ -e "$tmp/ro.status" ]; then
  cp "$tmp/ro.err" "$tmp/err"
  check "a read-only folder exits 1" [ "$(cat "$tmp/ro.status")" = 1 ]
  check "a read-only folder: cannot create a file there" grep -qF "cannot create a file in the folder $tmp/ro" "$tmp/ro.err"
  check "a read-only folder: refused before training" bash -c "! grep -q '^epoch' '$tmp/ro.out'"
else
  echo "SKIPPED: a read-only folder (no read-only mount could be made here)"
fi

# A symbolic link is written through (the target gets the model, the link stays); a temporary
# left by a killed save (its process gone) is removed by the next save to the same path.
echo "not a model yet" > "$tmp/target.curec"; ln -s target.curec "$tmp/link.curec"
check "--save onto a link exits 0" [ "$(status_of "$curec" train mf --data synthetic "${few[@]}" --save "$tmp/link.curec")" = 0 ]
check "--save onto a link: the link is kept" [ -L "$tmp/link.curec" ]
check "--save onto a link: the target holds the model" \
  [ "$(status_of "$curec" predict --model "$tmp/target.curec" --user 1 --item 1)" = 0 ]
dead=$(bash -c 'echo $$')
echo partial > "$tmp/s.curec.tmp.$dead"
check "a save with a dead process's temporary beside it exits 0" \
  [ "$(status_of "$curec" train mf --data synthetic "${few[@]}" --save "$tmp/s.curec")" = 0 ]
check "the dead process's temporary is removed" [ ! -e "$tmp/s.curec.tmp.$dead" ]

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
