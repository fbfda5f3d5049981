"""What bench/bench.py and bench/eval.py share: running commands, generated videos, the real
clips' casts, screentime's runs and the peer's, scoring against truth, and the tables they print.
Standard library only."""

import hashlib
import json
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
# Development data beside the repository, not in it: a user's checkout may not have it.
SHARED = ROOT.parent / "shared" / "data" / "real"
TRUTH = ROOT / "tests" / "truth"


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


def ffmpeg(*args) -> None:
    """Runs ffmpeg quietly, overwriting its output, failing on an error."""
    run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args])


def make_cast(work: Path, kind: str) -> Path | None:
    """The cast folder for the real clips, "fotb" (its six photos), or a cast of video frames,
    tests/truth/<kind>_cast.json ("grid": six GRID speakers, each a frame of their own clip;
    "snape": one frame per person from the first film's close-ups), made under work/casts/
    (writable, so screentime caches its embeddings there); None where the footage is absent."""
    cast = work / "casts" / kind
    if kind == "fotb":
        source = SHARED / "fotb" / "cast"
        if not source.is_dir():
            return None
        cast.mkdir(parents=True, exist_ok=True)
        for photo in source.glob("*.png"):
            shutil.copyfile(photo, cast / photo.name)
        return cast
    spec = json.loads((TRUTH / f"{kind}_cast.json").read_text())
    cast.mkdir(parents=True, exist_ok=True)
    for name, (clip, frame) in spec.items():
        clip = (TRUTH / clip).resolve()
        if not clip.is_file():
            return None
        photo = cast / f"{name}.png"
        if not photo.is_file():
            ffmpeg("-i", clip, "-vf", f"select=eq(n\\,{frame})", "-fps_mode", "passthrough", "-frames:v", "1", photo)
    return cast


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


def peer_csv(answer: Path, out: Path) -> Path:
    """Writes the peer's JSON answer as a frame-range CSV (the truth's own form, which `screentime
    score` reads) to out, and returns out."""
    recognised = json.loads(answer.read_text())["recognised"]
    rows = [(name, a, b) for name, found in recognised.items() for a, b in found["runs"]]
    lines = ["name,start_frame,end_frame"] + [f"{n},{a},{b}" for n, a, b in sorted(rows, key=lambda r: r[1])]
    out.write_text("\n".join(lines) + "\n")
    return out


def score(binary: Path, video: Path, truth: Path, results) -> list[dict]:
    """`screentime score --json` against a truth CSV: one score per result (an output folder of
    `screentime VIDEO` or a frame-range CSV), in order."""
    lines = run([binary, "score", video, "--truth", truth, "--json", *results])
    return [json.loads(line) for line in lines.splitlines()]


def worst_cast_recall(score: dict) -> float | None:
    """The lowest recall among the cast members the truth names; None where it names none."""
    recalls = [i["recall"] for i in score["identities"] if not i["stranger"]]
    return min(recalls) if recalls else None


def text_table(header, rows, align: str) -> list[str]:
    """Columns padded to their widest cell, two spaces apart; align has "l" or "r" per column."""
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    pad = lambda cells: "  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align))
    return [pad(cells).rstrip() for cells in [header, *rows]]


def markdown_table(header, rows, align: str) -> str:
    """A markdown table; align has "l" or "r" per column."""
    lines = ["| " + " | ".join(header) + " |", "|" + "".join("--:|" if a == "r" else "---|" for a in align)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])
