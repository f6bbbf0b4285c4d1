#!/usr/bin/env bash
# Rebuilds the shipped tiny models (models/) from a seed with the paper's bootstrap round, in miniature:
#   1. synthetic word problems (train, held-out test, harder out-of-distribution split);
#   2. terminal-guided MCTS (preset bootstrap: few-shot prompt, 8 rollouts) with the noisy teacher as the policy;
#   3. SFT data (top-2 trajectories per problem by mean Q) and PPM preference pairs extracted from the trees;
#   4. the tiny policy trained on the SFT data, then the PPM trained from the policy on the pairs (PyTorch, CPU);
#   5. GGUF (F16) + value head copied to models/, with a manifest of every setting and count.
#
# Usage: bash scripts/build-models.sh [SEED]      (environment: WORK=build dir, OUT=models dir, TRAIN=problems)
# Takes about an hour on 2 cores. Needs scripts/setup.sh to have run (torch for /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."

SEED="${1:-1}"
WORK="${WORK:-build/models-seed$SEED}"
OUT="${OUT:-models}"
TRAIN="${TRAIN:-1500}"
HELDOUT="${HELDOUT:-200}"
RSTAR=(node bin/rstar.js)
started=$(date +%s)
log() { printf '[build-models %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

mkdir -p "$WORK"
log "1/5 synthetic problems (seed $SEED: $TRAIN train, $HELDOUT test, $HELDOUT ood)"
"${RSTAR[@]}" synth generate --out "$WORK/data" --seed "$SEED" --train "$TRAIN" --test "$HELDOUT" --ood "$HELDOUT" --format jsonl

log "2/5 bootstrap MCTS with the noisy teacher (preset bootstrap: 8 rollouts, few-shot prompt, terminal reward)"
PORT=$((20000 + RANDOM % 20000))
"${RSTAR[@]}" teacher serve --port "$PORT" >"$WORK/teacher.log" 2>&1 &
TEACHER=$!
trap 'kill $TEACHER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1 && break; sleep 0.2; done
RESUME=()
[ -f "$WORK/round1/config.json" ] && RESUME=(--resume)
"${RSTAR[@]}" search --dataset "$WORK/data/train.jsonl" --policy-url "http://127.0.0.1:$PORT/v1" --model rstar-synth-teacher \
    --preset bootstrap --seed "$SEED" --concurrency 8 --out "$WORK/round1" "${RESUME[@]}"
kill $TEACHER 2>/dev/null || true

log "3/5 extract SFT trajectories and PPM pairs"
"${RSTAR[@]}" extract sft --run "$WORK/round1" --out "$WORK/sft.jsonl" --per-problem 2
# Synthetic steps differ mostly in a number or an operator, so the official edit-distance threshold (20, meant for
# free-form steps) would keep almost no pairs; 5 keeps near-duplicate steps out and real alternatives in.
"${RSTAR[@]}" extract ppm --run "$WORK/round1" --out "$WORK/pairs.jsonl" --min-edit-distance 5

if [ "${STOP_AFTER:-}" = "extract" ]; then log "stopping after extraction (STOP_AFTER=extract)"; exit 0; fi

log "4/5 train the policy (SFT) and the PPM (pairwise)"
# The policy: 3 epochs, then 6 more from that checkpoint, then 6 more at half the learning rate (each stage a fresh
# warm-up and cosine schedule); the PPM starts from the 3-epoch policy and sees every pair once. This is exactly how
# the shipped models were made (see models/manifest.json).
"${RSTAR[@]}" train sft --data "$WORK/sft.jsonl" --out "$WORK/policy1" --preset tiny --epochs 3 \
    --threads 1 --seed "$SEED" --solve-data "$WORK/data/test.jsonl" --solve-count 40
"${RSTAR[@]}" train sft --data "$WORK/sft.jsonl" --init "$WORK/policy1" --out "$WORK/policy2" --preset tiny --epochs 6 \
    --threads 1 --seed "$((SEED + 1))" --solve-data "$WORK/data/test.jsonl" --solve-count 40
"${RSTAR[@]}" train sft --data "$WORK/sft.jsonl" --init "$WORK/policy2" --out "$WORK/policy" --preset tiny --epochs 6 \
    --lr 1.5e-3 --threads 1 --seed "$((SEED + 2))" --solve-data "$WORK/data/test.jsonl" --solve-count 40
"${RSTAR[@]}" train ppm --pairs "$WORK/pairs.jsonl" --base "$WORK/policy1" --out "$WORK/ppm" --epochs 1 \
    --threads 1 --seed "$SEED"

log "5/5 copy into $OUT"
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp/policy" "$OUT.tmp/ppm" "$OUT.tmp/heldout"
cp "$WORK/policy/model.gguf" "$WORK/policy/tokenizer.json" "$WORK/policy/config.json" "$WORK/policy/metrics.json" "$OUT.tmp/policy/"
cp "$WORK/ppm/model.gguf" "$WORK/ppm/value_head.safetensors" "$WORK/ppm/value_head.json" "$WORK/ppm/config.json" "$WORK/ppm/metrics.json" "$OUT.tmp/ppm/"
cp "$WORK/data/test.jsonl" "$WORK/data/ood.jsonl" "$OUT.tmp/heldout/"
node -e '
const fs = require("fs");
const [work, seed, train, heldout, seconds] = process.argv.slice(1);
const lines = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).length;
const results = fs.readFileSync(`${work}/round1/results.jsonl`, "utf8").split("\n").filter(Boolean).map(JSON.parse);
const manifest = {
  format: "rstar-models/1",
  builtBy: `bash scripts/build-models.sh ${seed}`,
  seed: Number(seed),
  data: { train: Number(train), test: Number(heldout), ood: Number(heldout), generator: "rstar synth generate" },
  bootstrap: { preset: "bootstrap", policy: "noisy teacher (rstar teacher serve)", problems: results.length,
    solved: results.filter((r) => r.pass_any).length },
  sft: { records: lines(`${work}/sft.jsonl`), perProblem: 2, epochs: [3, 6, 6] },
  ppm: { pairs: lines(`${work}/pairs.jsonl`), minEditDistance: 5, epochs: 1, base: "the 3-epoch policy" },
  policy: JSON.parse(fs.readFileSync(`${work}/policy/metrics.json`, "utf8")),
  ppmTraining: JSON.parse(fs.readFileSync(`${work}/ppm/metrics.json`, "utf8")),
  buildSeconds: Number(seconds),
};
fs.writeFileSync(process.argv[6], JSON.stringify(manifest, null, 2) + "\n");
' "$WORK" "$SEED" "$TRAIN" "$HELDOUT" "$(( $(date +%s) - started ))" "$OUT.tmp/manifest.json"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
log "done in $(( $(date +%s) - started )) s: $(du -sh "$OUT" | cut -f1) in $OUT"
