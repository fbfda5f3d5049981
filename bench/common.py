"""What bench/bench.py and bench/eval.py share: running commands, generated videos, screentime's
runs and the peer's, and the tables they print. Standard library only."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where `cargo build --release` puts it: $CARGO_TARGET_DIR when set, as scripts/bench and scripts/eval build it.
BINARY = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "release" / "screentime"
MAKE_VIDEO = ROOT / "tests" / "tools" / "make_video.py"
PEER = ROOT / "bench" / "peer.py"


def run(cmd, **kwargs) -> str:
    """Runs cmd and returns its stdout; on failure exits with the end of its stderr."""
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{Path(sys.argv[0]).name}: {' '.join(map(str, cmd))} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def sha256(paths) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def make_video(spec: Path, video: Path, truth: Path | None = None) -> None:
    """Makes video (and its truth CSV) from a tests/tools/make_video.py spec, again whenever the
    spec or make_video.py changes. The old video goes first, and the key (VIDEO.key) is written
    last, so a failed make never leaves an old video beside a new spec."""
    key = video.with_suffix(".key")
    want = sha256([spec, MAKE_VIDEO])
    outputs = [video] + ([truth] if truth else [])
    if key.is_file() and key.read_text() == want and all(p.is_file() for p in outputs):
        return
    key.unlink(missing_ok=True)
    video.unlink(missing_ok=True)
    video.parent.mkdir(parents=True, exist_ok=True)
    run([ROOT / ".venv" / "bin" / "python", MAKE_VIDEO, spec, *outputs])
    key.write_text(want)


def mode_slug(mode: str) -> str:
    """A mode's folder name: "" -> default, "--stride 1 --embed-every 1" -> stride_1_embed_every_1."""
    return "".join(c if c.isalnum() else "_" for c in mode.replace("--", "")) or "default"


def screentime_run(binary: Path, video: Path, cast: Path, out_root: Path, mode: str):
    """(command, output folder) for `screentime VIDEO --cast CAST` in a mode (extra arguments,
    split on spaces). The folder is emptied first, so nothing from an older binary or mode is
    scored."""
    out = out_root / mode_slug(mode)
    shutil.rmtree(out, ignore_errors=True)
    return [binary, video, "--cast", cast, "--out", out, "--quiet", *mode.split()], out


def peer_run(python: Path, video: Path, cast: Path, answer: Path):
    """The command that runs the peer (bench/peer.py, in the venv of bench/peer_venv.py) and
    writes its answer as JSON; an older answer is removed first."""
    answer.unlink(missing_ok=True)
    return [python, PEER, video, cast, "--out", answer]


def text_table(header, rows, align: str) -> list[str]:
    """Columns padded to their widest cell, two spaces apart; align has "l" or "r" per column."""
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    pad = lambda cells: "  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align))
    return [pad(cells).rstrip() for cells in [header, *rows]]


def markdown_table(header, rows, align: str) -> str:
    """A markdown table; align has "l" or "r" per column."""
    lines = ["| " + " | ".join(header) + " |", "|" + "".join("--:|" if a == "r" else "---|" for a in align)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])
