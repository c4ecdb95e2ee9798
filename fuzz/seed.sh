#!/usr/bin/env bash
# Builds the fuzzers' starting corpora from testdata/ (corpora are not committed; they grow).
# Usage: bash fuzz/seed.sh   then   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET corpus/TARGET
set -euo pipefail
cd "$(dirname "$0")"
td=../testdata
seed() { mkdir -p "corpus/$1"; shift; for f in "$@"; do [ -f "$f" ] && cp "$f" "corpus/$t/$(basename "$f" | tr ' ' _)"; done; true; }
t=slmgr; seed $t $td/slmgr/*.txt
t=code_spelling; mkdir -p corpus/$t
for c in 0xC004F038 C004F038 'hr=0xC004F059' '-1073418184' 3221549112 SL_E_VL_NOT_ENOUGH_COUNT 1722 0x04000008 'Error: 0x8007267C'; do
  printf '%s' "$c" > "corpus/$t/$(printf '%s' "$c" | md5sum | cut -c1-12)"
done
t=payload; mkdir -p corpus/$t
printf '0x0, 0x0, kms01:1688, 9b2f6c1e-3d4a-4b8e-9c7f-2a1e5d6b8c90, 2025/07/01 08:00, 0, 2, 43200, 73111121-5638-40f6-bc11-f1d7b0d64300, 25' > corpus/$t/info
printf 'hr=0xC004F074;Info=x' > corpus/$t/kv
printf '1/14/2006 2:30' > corpus/$t/time
printf 'Info: %%1\nInfo: 0x0, 5' > corpus/$t/template
t=event_xml; seed $t $td/events/*.xml $td/hostile/*.xml
t=event_json; seed $t $td/events/*.json $td/events/*.jsonl
t=event_tabular; seed $t $td/events/*.csv $td/events/*.txt
t=evtx; seed $t $td/evtx/samples_Application_no_crc32.evtx $td/fleets/mixed/ws01.contoso.com/Application.evtx
t=analyze; seed $t $td/slmgr/en-*.txt $td/events/*.xml $td/events/*.json $td/events/*.csv
for t in corpus/*; do echo "$t: $(ls "$t" | wc -l) seed(s)"; done
