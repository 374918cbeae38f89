#!/usr/bin/env bash
# The data-parallel path with one rank (curec train MODEL --exchange-alone): each book model,
# its gradients bucketed, all-reduced or gathered and unpacked as with several ranks, reaches
# the plain one-rank run's metrics (RMSE within 2e-4, ranking and CTR metrics within 2e-3). On
# cuda that is NCCL on the one GPU: NCCL refuses two ranks on one GPU, so world size 1 is how a
# one-GPU machine runs every book experiment through the NCCL backend.
#   cli_exchange_alone.sh PATH/TO/curec DATA_DIR DEVICE [MODEL ...]   (default: every book model)
# DEVICE cuda without a usable GPU exits 77 (ctest: Skipped), or fails with CUREC_REQUIRE_GPU=1.
# CUREC_TEST_EMULATED_GPU=1 (set by tests/CMakeLists.txt in a -DCUREC_CUDA_EMULATE=ON build): the
# GPU is the emulated device, where an epoch of NeuMF or Caser on ML-100K takes about 30 s, so on
# cuda those two train on the planted sequences (--data synthetic) instead.
set -u
curec=$1
export CUREC_DATA_DIR=${CUREC_DATA_DIR:-$2}
device=$3
shift 3
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(mf autorec neumf caser fm deepfm als)
source "$(dirname "$0")/cli_checks.sh"

if [ "$device" != cpu ]; then
  if [ "$(status_of "$curec" train mf --data synthetic --device "$device" --epochs 1)" != 0 ] &&
     grep -qE "does not exist|without CUDA" "$tmp/err"; then
    if [ -n "${CUREC_REQUIRE_GPU:-}" ] && [ "${CUREC_REQUIRE_GPU}" != 0 ]; then
      echo "FAILED: CUREC_REQUIRE_GPU is set but $device is unusable: $(tail -1 "$tmp/err")"
      exit 1
    fi
    echo "SKIPPED: $device is unusable here: $(tail -1 "$tmp/err")"
    exit 77
  fi
fi

emulated=
if [ "$device" != cpu ] && [ -n "${CUREC_TEST_EMULATED_GPU:-}" ] && [ "${CUREC_TEST_EMULATED_GPU}" != 0 ]; then
  emulated=1
  echo "SHRUNK under emulation ($device is the emulated device): neumf and caser train on --data synthetic" \
       "(planted sequences) instead of ML-100K"
fi

for m in "${models[@]}"; do
  case $m in
    als) length=(--sweeps 3) ;;
    *) length=(--epochs 2) ;;
  esac
  data=()
  if [ -n "$emulated" ]; then
    case $m in neumf | caser) data=(--data synthetic) ;; esac
  fi
  run=("$curec" train "$m" --device "$device" "${length[@]}" "${data[@]}" --json)
  check "$m on $device" [ "$(status_of "${run[@]}")" = 0 ]
  cp "$tmp/out" "$tmp/plain"
  check "$m on $device --exchange-alone" [ "$(status_of "${run[@]}" --exchange-alone)" = 0 ]
  check "$m --exchange-alone says so" [ "$(field_of "$tmp/out" exchange_alone)" = True ]
  check "$m --exchange-alone has one rank" [ "$(field_of "$tmp/out" world_size)" = 1 ]
  [ "$m" = als ] || check "$m --exchange-alone exchanged bytes" \
    python3 -c "import sys; sys.exit(0 if float('$(field_of "$tmp/out" exchange_bytes_per_step)') > 0 else 1)"
  # Every metric both runs report, each within its tolerance.
  check "$m --exchange-alone metrics match the plain run" python3 - "$tmp/plain" "$tmp/out" <<'EOF'
import json, sys
plain, alone = (json.loads(open(f).read().strip().splitlines()[-1]) for f in sys.argv[1:3])
tolerances = {"test_rmse": 2e-4, "auc": 2e-3, "hit_at_10": 2e-3, "hit_at_50": 2e-3, "ndcg_at_10": 2e-3}
compared = [k for k in tolerances if k in plain]
bad = [f"{k}: {plain[k]} vs {alone.get(k)}" for k in compared if abs(plain[k] - alone.get(k, float("inf"))) > tolerances[k]]
if not compared or bad:
    print("  " + ("; ".join(bad) if bad else "no metric to compare"), file=sys.stderr)
    sys.exit(1)
EOF
done
check "--exchange-alone with 2 ranks exits 2" [ "$(status_of "$curec" train mf --device "$device" --world-size 2 --exchange-alone)" = 2 ]
check "--exchange-alone with 2 ranks says why" grep -q "exchange their gradients anyway" "$tmp/err"
echo "cli_exchange_alone ($device): $passes passed, $fails failed"
[ "$fails" = 0 ]
