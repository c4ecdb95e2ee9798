#!/usr/bin/env bash
# kmsdiag's performance benchmark (issue "Performance and scale"): builds the dist binary,
# generates corpora with `kmsdiag synth`, installs the reference reader evtx_dump (evtx 0.15.1,
# pinned) into the scratch directory, runs each pair alternately and prints median wall time,
# records/s, MB/s, peak RSS and the ratio kmsdiag / evtx_dump; then the scaling table.
#
# Real Windows logs come first: every .evtx of ../shared/samples/evtx spliced by
# ../shared/tools/splice_evtx.py into one ~150 MB log and each into a ~30 MB one, each timed
# against evtx_dump -t 1 with the chunks the fast reader declined (by reason).
#
# Usage: bash benches/run.sh            (about 12-16 minutes on 2 cores, most of it corpus generation
#                                        and the host logs x4 and x16)
# Environment: BENCH_DIR (scratch, default target/bench), BENCH_RUNS (default 5),
#              BENCH_FLEET_CLIENTS (default 2000), BENCH_FLEET_NOISE (noise events per client per
#              day in the fleet, default 150: about 2.2 GB), BENCH_SAMPLES (real .evtx folder),
#              BENCH_SPLICE (splice_evtx.py), BENCH_SIEM_MB (size of each SIEM export, default
#              1024), BENCH_SKIP_EVTX=1 (only the SIEM exports).
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME and awk, whatever the user's locale
cd "$(dirname "$0")/.."
ROOT="$PWD"
SCRATCH="${BENCH_DIR:-$ROOT/target/bench}"
RUNS="${BENCH_RUNS:-5}"
CLIENTS="${BENCH_FLEET_CLIENTS:-2000}"
FLEET_NOISE="${BENCH_FLEET_NOISE:-150}"
mkdir -p "$SCRATCH"

# The `dist` profile (fat LTO, one codegen unit): the binary users install, not the quicker
# `release` a first `cargo run --release` builds.
echo "==> building kmsdiag (profile dist)"
cargo build --profile dist --locked --quiet
KMSDIAG="$ROOT/target/dist/kmsdiag"

EVTX_DUMP="$SCRATCH/tools/bin/evtx_dump"
if [ ! -x "$EVTX_DUMP" ]; then
  echo "==> installing the reference: evtx_dump from the evtx crate 0.15.1"
  cargo install evtx --version 0.15.1 --locked --root "$SCRATCH/tools" --quiet
fi

scenario() { # name, body
  printf '%s\n' "$2" > "$SCRATCH/$1.toml"
}

echo "==> generating corpora in $SCRATCH"
scenario noise 'description = "one client: a noise-dominated Application log"
start = "2026-09-01T00:00:00Z"
days = 30
seed = 3
slmgr = false
[[host]]
name = "kms01"
logs = false
[[clients]]
name = "ws{n}"
count = 1
kms = "kms01"'
[ -f "$SCRATCH/noise/ws1.contoso.com/Application.evtx" ] ||
  "$KMSDIAG" synth "$SCRATCH/noise.toml" --out "$SCRATCH/noise" --noise-per-day 20000 >/dev/null
NOISE_LOG="$SCRATCH/noise/ws1.contoso.com/Application.evtx"

scenario host 'description = "a KMS host log that is all 12290s: 400 skewed clients refused every two hours"
start = "2026-09-01T00:00:00Z"
days = 30
seed = 4
slmgr = false
noise_per_day = 0
[[host]]
name = "kms01"
[[clients]]
name = "c{n:04}"
count = 400
kms = "kms01"
logs = false
[[fault]]
kind = "clock-skew"
machines = ["c*"]
minutes = 600'
[ -f "$SCRATCH/host/kms01.contoso.com/Key Management Service.evtx" ] ||
  "$KMSDIAG" synth "$SCRATCH/host.toml" --out "$SCRATCH/host" >/dev/null
HOST_LOG="$SCRATCH/host/kms01.contoso.com/Key Management Service.evtx"
# The same host at 4 and 16 times the clients (about 240 MB and 990 MB): memory that grows with
# the number of requests shows here, not in the 1x log.
for n in 4 16; do
  [ -f "$SCRATCH/host$n/kms01.contoso.com/Key Management Service.evtx" ] ||
    "$KMSDIAG" synth "$SCRATCH/host.toml" --out "$SCRATCH/host$n" --scale "$n" >/dev/null
done

scenario fleet 'description = "a fleet: client logs of every machine and the host log"
start = "2026-09-01T00:00:00Z"
days = 30
seed = 5
slmgr = false
[[host]]
name = "kms01"
[[clients]]
name = "ws{n:05}"
count = 1
kms = "dns"
hours = "office"
activated_days_ago = 3'
[ -d "$SCRATCH/fleet" ] ||
  "$KMSDIAG" synth "$SCRATCH/fleet.toml" --out "$SCRATCH/fleet" --scale "$CLIENTS" --noise-per-day "$FLEET_NOISE" >/dev/null

# Real Windows logs (the public samples beside the project, damaged ones left out), 30 copies
# each: templates as Windows writes them, not as kmsdiag's own writer does.
SAMPLES="${BENCH_SAMPLES:-$ROOT/../shared/samples/evtx}"
if [ -d "$SAMPLES" ] && [ ! -d "$SCRATCH/real" ]; then
  for i in $(seq 1 30); do
    mkdir -p "$SCRATCH/real/copy$i"
    find "$SAMPLES" -name '*.evtx' ! -name '*bad_chunk*' ! -name '*zero-data*' -exec cp {} "$SCRATCH/real/copy$i/" \;
  done
fi

# Real logs spliced (issue 28): every chunk with records of every real sample, repeated into one
# noise-dominated log of about 150 MB, and each sample on its own into about 30 MB — chunks as
# Windows writes them, many times over, so a run is long enough to time.
SPLICE="${BENCH_SPLICE:-$ROOT/../shared/tools/splice_evtx.py}"
if [ -d "$SAMPLES" ] && [ -f "$SPLICE" ]; then
  mkdir -p "$SCRATCH/splice/one"
  [ -f "$SCRATCH/splice/all.evtx" ] ||
    python3 "$SPLICE" "$SCRATCH/splice/all.evtx" --max-mb 150 "$SAMPLES"/*.evtx >/dev/null
  for f in "$SAMPLES"/*.evtx; do
    one="$SCRATCH/splice/one/$(basename "$f")"
    [ -f "$one" ] || python3 "$SPLICE" "$one" --max-mb 30 "$f" >/dev/null
  done
fi

# Scaling: 1, 4 and 16 copies of the noise log.
for n in 1 4 16; do
  d="$SCRATCH/scale$n"
  if [ ! -d "$d" ]; then
    mkdir -p "$d"
    for i in $(seq 1 "$n"); do
      mkdir -p "$d/m$i" && cp "$NOISE_LOG" "$d/m$i/Application.evtx"
    done
  fi
done

# measure CMD... -> prints "seconds max_rss_kb cpu_percent" of one run. The wall time is read
# from the shell's microsecond clock around the run (time's own %e has 10 ms steps, 7-15% of
# a 0.07-0.15 s run); both sides of a pair pay the same few hundred microseconds for `time`.
measure() {
  local t0 t1 rss cpu
  t0=$EPOCHREALTIME
  /usr/bin/time -o "$SCRATCH/.time" -f '%M %P' "$@" >/dev/null 2>&1 || true
  t1=$EPOCHREALTIME
  read -r rss cpu < <(tail -1 "$SCRATCH/.time" | tr -d '%')
  awk -v a="$t0" -v b="$t1" -v m="$rss" -v c="$cpu" 'BEGIN { printf "%.4f %s %s\n", b - a, m, c }'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

records_of() { # an .evtx file or a folder: records as evtx_dump counts them
  local n=0
  while IFS= read -r -d '' f; do
    n=$((n + $("$EVTX_DUMP" -t 1 -o jsonl "$f" 2>/dev/null | wc -l)))
  done < <(find "$1" -name '*.evtx' -print0)
  echo "$n"
}
bytes_of() { find "$1" -name '*.evtx' -printf '%s\n' | awk '{s+=$1} END {print s}'; }

dump_all() { # evtx_dump over every .evtx of a folder (or one file), THREADS
  local t="$2"
  find "$1" -name '*.evtx' -print0 | while IFS= read -r -d '' f; do
    "$EVTX_DUMP" -t "$t" -o jsonl "$f"
  done
}
export -f dump_all
export EVTX_DUMP

pair() { # label, input, threads for both (0: kmsdiag's default, every CPU; evtx_dump -t 0)
  local label="$1" input="$2" threads="$3"
  local recs bytes k=() e=() krss=() erss=() kcpu=() kt=()
  recs=$(records_of "$input")
  bytes=$(bytes_of "$input")
  [ "$threads" -gt 0 ] && kt=(--threads "$threads")
  "$KMSDIAG" analyze "$input" >/dev/null 2>&1 || true   # warm the page cache
  for _ in $(seq 1 "$RUNS"); do
    read -r s m c < <(measure "$KMSDIAG" analyze "${kt[@]}" "$input")
    k+=("$s"); krss+=("$m"); kcpu+=("$c")
    read -r s m _ < <(measure bash -c "dump_all '$input' $threads")
    e+=("$s"); erss+=("$m")
  done
  local km em kr er kc
  km=$(printf '%s\n' "${k[@]}" | median)
  em=$(printf '%s\n' "${e[@]}" | median)
  kr=$(printf '%s\n' "${krss[@]}" | sort -n | tail -1)
  er=$(printf '%s\n' "${erss[@]}" | sort -n | tail -1)
  kc=$(printf '%s\n' "${kcpu[@]}" | median)
  # Kept for the lines that compare pairs: both medians, kmsdiag's throughput.
  K_MED="$km"
  E_MED="$em"
  MBPS=$(awk -v b="$bytes" -v km="$km" 'BEGIN { printf "%.1f", b / 1048576 / (km > 0 ? km : 0.001) }')
  awk -v l="$label" -v r="$recs" -v b="$bytes" -v km="$km" -v em="$em" -v kr="$kr" -v er="$er" -v t="$threads" -v kc="$kc" 'BEGIN {
    mb = b / 1048576
    printf "%-34s %8.1f MB %9d rec | kmsdiag -t %s %6.3f s %9.0f rec/s %7.1f MB/s %6.1f MB RSS %4d%% CPU | evtx_dump -t %s %6.3f s %6.1f MB RSS | ratio %.2f\n",
      l, mb, r, t, km, r / (km > 0 ? km : 0.001), mb / (km > 0 ? km : 0.001), kr / 1024, kc, t, em, er / 1024, km / (em > 0 ? em : 0.001)
  }'
}

declined() { # an .evtx: the chunks kmsdiag's fast reader handed to the evtx crate, by reason
  "$KMSDIAG" analyze --threads 1 --format json "$1" 2>/dev/null | python3 -c '
import json, sys
counts = {}
for i in json.load(sys.stdin).get("inputs", []):
    for why, n in i.get("evtx_chunks_declined", {}).items():
        counts[why] = counts.get(why, 0) + n
print("    chunks declined:", ", ".join(f"{w} {n}" for w, n in sorted(counts.items())) or "none")'
}


# SIEM exports read as a stream (issue 26): an Elastic ECS NDJSON export and a Sentinel portal
# CSV of a fleet's Application logs, mostly other providers' noise with the activation events
# among them, written by benches/siem_corpus.py. Timed on one thread with peak RSS; the peer is
# jq selecting the activation provider's records from the NDJSON (it parses every line).
SIEM_MB="${BENCH_SIEM_MB:-1024}"
mkdir -p "$SCRATCH/siem"
[ -f "$SCRATCH/siem/ecs.ndjson" ] ||
  python3 benches/siem_corpus.py ecs "$SCRATCH/siem/ecs.ndjson" --mb "$SIEM_MB"
[ -f "$SCRATCH/siem/sentinel.csv" ] ||
  python3 benches/siem_corpus.py sentinel "$SCRATCH/siem/sentinel.csv" --mb "$SIEM_MB"
siem() { # label, file
  local t=() m=() mb med rss
  mb=$(stat -c %s "$2" | awk '{ printf "%.1f", $1 / 1048576 }')
  for _ in $(seq 1 "$RUNS"); do
    read -r s r _ < <(measure "$KMSDIAG" analyze --threads 1 "$2")
    t+=("$s"); m+=("$r")
  done
  med=$(printf '%s\n' "${t[@]}" | median)
  rss=$(printf '%s\n' "${m[@]}" | sort -n | tail -1)
  awk -v l="$1" -v mb="$mb" -v s="$med" -v r="$rss" 'BEGIN {
    printf "%-34s %8.1f MB | kmsdiag -t 1 %7.3f s %7.1f MB/s %6.1f MB peak RSS\n", l, mb, s, mb / (s > 0 ? s : 0.001), r / 1024
  }'
}
echo
echo "==> SIEM exports read as a stream (median of $RUNS runs, one thread)"
siem "Elastic ECS NDJSON" "$SCRATCH/siem/ecs.ndjson"
siem "Sentinel portal CSV" "$SCRATCH/siem/sentinel.csv"
if command -v jq >/dev/null; then
  read -r s r _ < <(measure jq -c 'select(.winlog.provider_name == "Microsoft-Windows-Security-SPP")' "$SCRATCH/siem/ecs.ndjson")
  awk -v s="$s" -v r="$r" -v b="$(stat -c %s "$SCRATCH/siem/ecs.ndjson")" 'BEGIN {
    printf "%-34s peer: jq -c select(provider) %7.3f s %7.1f MB/s %6.1f MB peak RSS\n", "  Elastic ECS NDJSON", s, b / 1048576 / (s > 0 ? s : 0.001), r / 1024
  }'
fi
[ "${BENCH_SKIP_EVTX:-0}" = 1 ] && exit 0
echo
echo "==> pairs (median of $RUNS alternating runs; ratio = kmsdiag / evtx_dump, lower is better;"
echo "    -t 0 = every CPU; the fleet is compared with evtx_dump -t 0 run once per file)"
if [ -f "$SCRATCH/splice/all.evtx" ]; then
  pair "real logs spliced, 1 thread" "$SCRATCH/splice/all.evtx" 1
  declined "$SCRATCH/splice/all.evtx"
  for f in "$SCRATCH/splice/one/"*.evtx; do
    pair "  $(basename "$f" .evtx | cut -c1-32)" "$f" 1
    declined "$f"
  done
fi
pair "noise-dominated log, 1 thread" "$NOISE_LOG" 1
pair "noise-dominated log, all threads" "$NOISE_LOG" 0
single_mbps="$MBPS"
pair "KMS host log (100% 12290), 1 thread" "$HOST_LOG" 1
host_dump_1="$E_MED"
pair "KMS host log, all threads" "$HOST_LOG" 0
# The host-log target is set against evtx_dump on one thread.
awk -v k="$K_MED" -v e="$host_dump_1" 'BEGIN {
  printf "%-34s kmsdiag, all threads, %.3f s against evtx_dump -t 1 %.3f s: ratio %.2f\n",
    "  host log against -t 1", k, e, k / (e > 0 ? e : 0.001)
}'
for n in 4 16; do
  pair "KMS host log x$n, 1 thread" "$SCRATCH/host$n/kms01.contoso.com/Key Management Service.evtx" 1
  host_dump_1="$E_MED"
  pair "KMS host log x$n, all threads" "$SCRATCH/host$n/kms01.contoso.com/Key Management Service.evtx" 0
  awk -v k="$K_MED" -v e="$host_dump_1" -v n="$n" 'BEGIN {
    printf "%-34s kmsdiag, all threads, %.3f s against evtx_dump -t 1 %.3f s: ratio %.2f\n",
      "  host log x" n " against -t 1", k, e, k / (e > 0 ? e : 0.001)
  }'
done
pair "fleet of $CLIENTS clients + host" "$SCRATCH/fleet" 0
awk -v f="$MBPS" -v s="$single_mbps" 'BEGIN {
  printf "%-34s fleet %.1f MB/s against %.1f MB/s for the single noise-dominated log, all threads: %+.0f%%\n",
    "  fleet throughput", f, s, (f / (s > 0 ? s : 0.001) - 1) * 100
}'
[ -d "$SCRATCH/real" ] && pair "real Windows samples, 30 copies" "$SCRATCH/real" 0

echo
echo "==> host-log memory (kmsdiag analyze, all threads, peak RSS of $RUNS runs; flat memory keeps it"
echo "    the same at every size, memory per request grows it with the log)"
for n in 1 4 16; do
  f="$SCRATCH/host$n/kms01.contoso.com/Key Management Service.evtx"
  [ "$n" = 1 ] && f="$HOST_LOG"
  m=()
  for _ in $(seq 1 "$RUNS"); do
    read -r _ r _ < <(measure "$KMSDIAG" analyze "$f")
    m+=("$r")
  done
  rss=$(printf '%s\n' "${m[@]}" | sort -n | tail -1)
  awk -v n="$n" -v r="$rss" -v b="$(stat -c %s "$f")" 'BEGIN {
    printf "%3dx  %7.1f MB host log  peak RSS %7.1f MB  (%.0f%% of the log'"'"'s size)\n", n, b / 1048576, r / 1024, r * 1024 / b * 100
  }'
done

echo
echo "==> scaling (kmsdiag analyze over 1, 4, 16 copies of the noise log)"
base=""
prev=""
prevn=""
for n in 1 4 16; do
  t=()
  m=()
  for _ in $(seq 1 "$RUNS"); do
    read -r s r _ < <(measure "$KMSDIAG" analyze "$SCRATCH/scale$n")
    t+=("$s"); m+=("$r")
  done
  med=$(printf '%s\n' "${t[@]}" | median)
  rss=$(printf '%s\n' "${m[@]}" | sort -n | tail -1)
  [ -z "$base" ] && base="$med"
  # The time each copy beyond the first adds: linear growth keeps it constant (the 1x run also
  # pays the start-up, rules and report, once).
  per=""
  [ -n "$prev" ] && per=$(awk -v s="$med" -v p="$prev" -v n="$n" -v pn="$prevn" 'BEGIN { printf "%.3f", (s - p) / (n - pn) }')
  awk -v n="$n" -v s="$med" -v b="$base" -v r="$rss" -v per="$per" 'BEGIN {
    printf "%3dx  %6.3f s  (%.2f x the 1x time, linear would be %d)  peak RSS %.1f MB", n, s, s / (b > 0 ? b : 0.001), n, r / 1024
    if (per != "") printf "  %s s per added copy", per
    printf "\n"
  }'
  prev="$med"
  prevn="$n"
done
