#!/usr/bin/env bash
# Rebuilds the bundled example clip with Debian's festival and its CMU SLT HTS voice
# (apt-get install festival festvox-us-slt-hts sox). The clip is synthetic: no one's recording.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "(voice_cmu_us_slt_arctic_hts)" > "$tmp/voice.scm"
text2wave -eval "$tmp/voice.scm" hello.txt -o "$tmp/raw.wav"
sox "$tmp/raw.wav" -r 22050 -b 16 hello.wav pad 0.3 0.4
