#!/usr/bin/env bash
# Idempotent set-up: system packages (apt-get when root, otherwise the exact command is printed), the Python
# virtual environment with pinned requirements, and the data directory. `make run` and `make test` call it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Evidence Media needs Python 3.11; found $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

# command-or-library to look for -> Debian package that provides it
declare -A NEEDED=(
  [exiftool]=libimage-exiftool-perl
  [mediainfo]=mediainfo
  [pdftoppm]=poppler-utils
  [ffmpeg]=ffmpeg
  # the video analyser's stream, timing and first-packet reads (Debian's ffmpeg package ships it)
  [ffprobe]=ffmpeg
  [chromium]=chromium
  # device_profiles build (software-encoder tables) and the accuracy benchmark's manipulation recipes
  [jpegtran]=libjpeg-turbo-progs
  [heif-convert]=libheif-examples
  # the HEIF/AVIF item walker's tests encode their HEIC and AVIF files with it (same package as heif-convert)
  [heif-enc]=libheif-examples
  # the tests' local RFC 3161 time-stamping authority (openssl ts -reply)
  [openssl]=openssl
  # manage.py makemessages / compilemessages (the translation catalogues under locale/)
  [msgfmt]=gettext
)
missing=()
for tool in "${!NEEDED[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${NEEDED[$tool]}")
done
# Another program may answer to "convert" (a wrapper, GraphicsMagick): only ImageMagick's own will do.
convert -version 2>/dev/null | grep -q ImageMagick && [ -x /usr/bin/convert ] || missing+=(imagemagick)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
libraries=$(ldconfig -p 2>/dev/null || true)
[[ $libraries == *libmagic.so.1* ]] || missing+=(libmagic1)
[[ $libraries == *libmediainfo.so.0* ]] || missing+=(libmediainfo0v5)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing system packages. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

stamp=.venv/.requirements.sha256
wanted=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing Python requirements into .venv"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
  echo "$wanted" > "$stamp"
fi
