"""End-to-end speed and recall of `screentime VIDEO --cast DIR` beside FFmpeg's decode-only speed
and beside the peer tool, face_recognition 1.3.0 (bench/peer.py), on the same input, measured in
the same run (the machine is shared and noisy: compare ratios, not absolute numbers). Run through
scripts/bench (which builds the binary first).

Usage: bench/bench.py [--runs N] [--peer-runs N] [--peer-1080p] [--no-peer] [--hour] [--real]
  --runs N        runs per screentime and ffmpeg row, the best time kept (default 3); an input's
                  rows run in turn, once a round, so a change in the machine's load weighs on all
  --peer-runs N   runs of the peer (default 1: at 3-4 fps it takes ~45 s a run)
  --peer-1080p    also run the peer on the 1080p input (~15 min more: 0.8 fps there)
  --no-peer       no peer rows (and no peer venv)
  --hour          also the default mode and decode-only on a 1-hour 1080p input (the 30 s one 120
                  times over, joined without re-encoding), once each (~20 min): peak memory must
                  not grow with the video's length
  --real          also three real clips from ../shared/data/real (development data, beside the
                  repository; skipped, with a message, where it is absent), the peer on all but
                  the 1080p one (~20 min more): talk, fotb-15s and fotb-1080p below

Inputs are generated from the registry photos (Obama, Biden, Obama, zooming and panning) at
640x360 and 1920x1080 into target/bench/; the spec they are made from says who is on screen when,
which is the truth the recall is scored against. The cast knows only Obama.

The real clips (--real), with truth by eye in tests/truth/<video>.csv, casts as bench/eval.py has
them (common.make_cast):
- talk: pexels/WolfgangLanger_Pexels.mp4, 640x360, 19.7 s, one woman talking, a stranger to the
  cast (the six GRID speakers of tests/truth/grid_cast.json), whole.
- fotb-15s: the first 15 s of fotb/fotb.mp4 (1280x720, a TV dinner scene, six cast members, one
  photo each), cut once into target/bench/ without re-encoding, its truth cut to match: the peer
  reads about 2 frames a second there (~3 min for the cut; the whole 82 s would take ~16 min).
- fotb-1080p: the whole of fotb.mp4 scaled to 1920x1080 (x264's default preset, crf 20), made once
  into target/bench/: real 16:9 footage with no black bars at 1080p, where the default mode is
  held to FFmpeg's decoding speed. The default mode only, and no peer (it reads under one frame a
  second at 1080p).

Every input also gets a second decode-only row, `ffmpeg -threads 1 -skip_frame noref -f null`:
what the default mode itself decodes (it skips the frames no other frame refers to) on the one
decoder thread it starts with. That time is on one core whatever the workers do, so it and the
workers' CPU time bound the default mode's speed on a 2-core machine.

Prints one table and writes it as markdown to target/bench/table.md, for docs/benchmarks.md. Columns:
  fps          frames / best wall time of the whole job (start-up and cast loading included)
  vs decode    decode-only time (ffmpeg -threads 2) / this row's time
  vs peer      this row's fps / the peer's fps on the same input
  recall       share of the seconds in which Obama is truly on screen that the row credits to him;
               on a real clip, the worst cast member's recall by `screentime score` ("-" where no
               cast member is on screen)
  false s      seconds credited to Obama while he is not on screen; on a real clip, seconds
               credited to anyone not on screen there, by `screentime score`
  peak RSS MB  largest resident set over the row's runs (wait4's ru_maxrss)
The peer runs in its own venv, target/bench/peer-venv, made once from the hash-pinned
bench/requirements-peer.txt by bench/peer_venv.py.
"""

import argparse
import csv
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import (BINARY, ROOT, SHARED, TRUTH, ffmpeg, make_cast, make_video, markdown_table, peer_csv, peer_run, run,
                    score, screentime_run, text_table, worst_cast_recall)

import peer_venv

sys.path.insert(0, str(ROOT / "tests" / "tools"))
from make_video import truth_rows  # noqa: E402  (the spec's "who", as frame runs)

# Screentime rows: one row per entry, each the extra arguments to `screentime VIDEO --cast DIR`
# (split on spaces). Add a mode here and it is measured and scored at every input size.
# "" is the default mode (--stride auto: every 5th frame at 25 fps); "--stride 1" analyses every
# frame with face tracks; adding "--detect-every 1 --embed-every 1" detects and embeds every face
# of every frame, as screentime did before face tracks. "--embedder arcface" embeds with ArcFace
# (installed by scripts/setup --arcface, or --test) instead of dlib's network.
MODES = [
    "",
    "--stride 1",
    "--stride 1 --detect-every 1 --embed-every 1",
    "--embedder arcface",
    "--stride 1 --embedder arcface",
]
# Input sizes and how many times each plays the three shots: 640x360 once (6 s, short enough for
# the peer); 1080p five times (30 s), so that start-up (loading ONNX Runtime and the models: about
# half a second) does not hide the throughput.
SIZES = {"640x360": 1, "1920x1080": 5}
SHOTS = [("obama2.jpg", "zoom", "Barack Obama"), ("biden.jpg", "pan", "Joe Biden"),
         ("obama3.jpg", "zoom", "Barack Obama")]
WHO = "Barack Obama"  # the only cast member; the recall columns score him
HOUR = "1920x1080-1h"
BENCH = Path("target/bench")  # relative to ROOT, where the bench runs
DECODE = "ffmpeg -threads 2 -f null"
DECODE_REFS = "ffmpeg -threads 1 -skip_frame noref -f null"
FOTB_CUT_SECONDS = 15  # of fotb.mp4: the peer takes ~3 min on it at 720p


@dataclass
class RealInput:
    name: str  # its folder under target/bench/out/
    label: str  # the table's "input" cell
    video: Path
    truth: Path  # frame ranges by eye, as tests/truth/README.md describes
    cast: Path
    modes: list[str]  # of MODES
    peer: bool


def make_input(size: str, passes: int) -> Path:
    """The video for a size, made again whenever its spec changes."""
    width, height = map(int, size.split("x"))
    segments = [{"image": f"{ROOT}/data/photos/{photo}", "seconds": 2.0, "motion": motion, "who": who}
                for _ in range(passes) for photo, motion, who in SHOTS]
    spec = BENCH / f"{size}.json"
    text = json.dumps({"width": width, "height": height, "fps": 25, "segments": segments}) + "\n"
    if not spec.is_file() or spec.read_text() != text:
        spec.write_text(text)
    video = BENCH / f"{size}.mp4"
    make_video(spec, video)
    return video


def make_hour() -> Path:
    """The 1080p input 120 times over, joined without re-encoding, and its spec (the truth)."""
    video = BENCH / f"{HOUR}.mp4"
    if not video.is_file() or video.stat().st_mtime < (BENCH / "1920x1080.mp4").stat().st_mtime:
        video.unlink(missing_ok=True)
        (BENCH / f"{HOUR}.txt").write_text("file '1920x1080.mp4'\n" * 120)
        ffmpeg("-f", "concat", "-i", BENCH / f"{HOUR}.txt", "-c", "copy", video)
    spec = json.loads((BENCH / "1920x1080.json").read_text())
    spec["segments"] *= 120
    (BENCH / f"{HOUR}.json").write_text(json.dumps(spec))
    return video


def real_inputs() -> list[RealInput]:
    """talk (whole), the fotb cut and fotb at 1080p, each skipped with a message where its footage
    is absent."""
    inputs = []
    fotb = SHARED / "fotb" / "fotb.mp4"
    for name, path, cast_kind in [("talk", SHARED / "pexels" / "WolfgangLanger_Pexels.mp4", "grid"),
                                  (f"fotb-{FOTB_CUT_SECONDS}s", fotb, "fotb"), ("fotb-1080p", fotb, "fotb")]:
        cast = make_cast(BENCH, cast_kind)
        if not path.is_file() or cast is None:
            print(f"skipped the real clip {name}: its footage is absent", file=sys.stderr)
            continue
        video, truth, modes, peer = path, TRUTH / f"{path.stem}.csv", MODES, True
        if name == "fotb-1080p":
            video, modes, peer = scale_fotb(path), [""], False
        elif cast_kind == "fotb":
            video, truth = cut_fotb(path, truth)
        inputs.append(RealInput(name, f"{name} ({video_size(video)})", video, truth, cast, modes, peer))
    return inputs


def ffmpeg_once(out: Path, *args) -> Path:
    """out, made by `ffmpeg ARGS out` unless it is there already. Written under another name
    first: an interrupted ffmpeg leaves nothing to be reused."""
    if not out.is_file():
        part = out.with_suffix(".part" + out.suffix)
        ffmpeg(*args, part)
        part.rename(out)
    return out


def scale_fotb(video: Path) -> Path:
    """fotb.mp4 scaled to 1920x1080, every frame kept (so its truth holds as it is), made once."""
    return ffmpeg_once(BENCH / "fotb-1080p.mp4", "-i", video, "-vf", "scale=1920:1080", "-fps_mode", "passthrough",
                       "-an", "-c:v", "libx264", "-crf", "20")


def cut_fotb(video: Path, truth: Path) -> tuple[Path, Path]:
    """The first FOTB_CUT_SECONDS of fotb.mp4, copied without re-encoding (so its frames are the
    original's), made once; and its truth, cut to the frames the cut has."""
    cut = ffmpeg_once(BENCH / f"fotb-{FOTB_CUT_SECONDS}s.mp4", "-i", video, "-t", FOTB_CUT_SECONDS, "-c", "copy")
    cut_truth = cut.with_suffix(".csv")
    trim_truth(truth, count_frames(cut) - 1, cut_truth)
    return cut, cut_truth


def trim_truth(truth: Path, last: int, out: Path) -> None:
    """Writes the truth's rows that start by frame `last`, their ends clipped to it, to out."""
    with open(truth, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["start_frame"]) <= last]
    lines = ["name,start_frame,end_frame"]
    lines += [f"{r['name']},{r['start_frame']},{min(int(r['end_frame']), last)}" for r in rows]
    out.write_text("\n".join(lines) + "\n")


def video_size(video: Path) -> str:
    """The first video stream's WIDTHxHEIGHT."""
    return run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                "-of", "csv=p=0:s=x", video]).strip()


def count_frames(video: Path, packets: bool = False) -> int:
    """Frames in the video: decoded and counted, or (packets) counted from the container."""
    what = "packets" if packets else "frames"
    return int(run(["ffprobe", "-v", "error", "-select_streams", "v:0", f"-count_{what}", "-show_entries",
                    f"stream=nb_read_{what}", "-of", "csv=p=0", video]).strip())


def measure(jobs) -> list[tuple[float, int]]:
    """Runs each (command, runs) of jobs its number of times, in rounds (every job once a round,
    while it has runs left), so that the machine's load, which drifts, weighs on every row alike:
    per job, the best wall time in seconds and the peak RSS in KiB over its runs (os.wait4 gives
    each run's own rusage)."""
    results = [(float("inf"), 0)] * len(jobs)
    for round_ in range(max(runs for _, runs in jobs)):
        for i, (cmd, runs) in enumerate(jobs):
            if round_ >= runs:
                continue
            with tempfile.TemporaryFile() as err:
                start = time.perf_counter()
                child = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=err)
                _, status, usage = os.wait4(child.pid, 0)
                elapsed = time.perf_counter() - start
                code = os.waitstatus_to_exitcode(status)
                if code != 0:
                    err.seek(0)
                    sys.stderr.write(err.read().decode(errors="replace")[-2000:])
                    sys.exit(f"bench/bench.py: exit code {code}: {' '.join(map(str, cmd))}")
            best, peak = results[i]
            results[i] = min(best, elapsed), max(peak, usage.ru_maxrss)  # ru_maxrss: KiB on Linux
    return results


def truth_frames(size: str) -> tuple[list[tuple[int, int]], float]:
    """Frame ranges [first, end) in which WHO is on screen by the input's spec, and its fps."""
    spec = json.loads((BENCH / f"{size}.json").read_text())
    return [(a, b + 1) for name, a, b in truth_rows(spec, spec["fps"]) if name == WHO], spec["fps"]


def merged(intervals):
    out = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def overlap(xs, ys):
    return sum(max(0.0, min(b, d) - max(a, c)) for a, b in xs for c, d in ys)


def score_screentime(out: Path, truth, fps):
    """(recall, false seconds) from the run's segments.csv."""
    truth_s = [(a / fps, b / fps) for a, b in truth]
    with open(out / "segments.csv", newline="") as f:
        mine = merged((float(r["start"]), float(r["end"])) for r in csv.DictReader(f) if r["name"] == WHO)
    hit = overlap(mine, truth_s)
    return hit / sum(b - a for a, b in truth_s), sum(b - a for a, b in mine) - hit


def score_peer(answer: Path, truth):
    """(recall, false seconds, the peer's whole answer) from its JSON."""
    result = json.loads(answer.read_text())
    mine = [(a, b + 1) for a, b in result["recognised"].get(WHO, {}).get("runs", [])]  # to [first, end)
    hit = overlap(mine, truth)
    frames_in_truth = sum(b - a for a, b in truth)
    return hit / frames_in_truth, (sum(b - a for a, b in mine) - hit) / result["fps"], result


def score_generated(size: str, here) -> list[tuple[float | None, float | None]]:
    """Per row of a generated input, (recall, false seconds) of WHO against its spec; (None, None)
    for the decode row."""
    truth, fps = truth_frames(size)
    scores = []
    for _, kind, _, _, _, _, out in here:
        if kind == "screentime":
            scores.append(score_screentime(out, truth, fps))
        elif kind == "peer":
            scores.append(score_peer(out, truth)[:2])
        else:
            scores.append((None, None))
    return scores


def score_real(binary: Path, real: RealInput, here) -> list[tuple[float | None, float | None]]:
    """Per row of a real clip, (worst cast recall, false seconds) by `screentime score` against
    the truth by eye, as bench/eval.py scores; (None, None) for the decode row. The peer's answer
    is scored as the frame-range CSV common.peer_csv makes of it."""
    results = {}  # row index -> what `screentime score` reads
    for i, (_, kind, _, _, _, _, out) in enumerate(here):
        if kind == "screentime":
            results[i] = out
        elif kind == "peer":
            results[i] = peer_csv(out, out.with_suffix(".csv"))
    scored = dict(zip(results, score(binary, real.video, real.truth, results.values())))
    return [(worst_cast_recall(scored[i]), scored[i]["false_seconds"]) if i in scored else (None, None)
            for i in range(len(here))]


def decode_commands(video: Path, refs: bool = True):
    """FFmpeg's decode-only rows of one input, as (row name, command): every frame on 2 threads,
    and (refs) what the default mode decodes, on one thread."""
    commands = [(DECODE, ["-threads", "2"])]
    if refs:
        commands.append((DECODE_REFS, ["-threads", "1", "-skip_frame", "noref"]))
    return [(name, ["ffmpeg", "-v", "error", *options, "-i", video, "-f", "null", "-"]) for name, options in commands]


def measure_input(args, binary: Path, label: str, video: Path, cast: Path, out_root: Path, peer_python,
                  modes=MODES):
    """The rows of one input: FFmpeg's decode, every one of modes, and the peer where peer_python
    is given, measured in rounds. Each row: (input, kind, mode, frames, seconds, peak KiB, result
    to score)."""
    print(f"measuring {label}", file=sys.stderr)
    frames = count_frames(video)
    rows, jobs = [], []  # rows without their time and memory, and what measures them
    for name, cmd in decode_commands(video):
        rows.append((label, "decode", name, None))
        jobs.append((cmd, args.runs))
    for mode in modes:
        cmd, out = screentime_run(binary, video, cast, out_root, mode)
        rows.append((label, "screentime", mode, out))
        jobs.append((cmd, args.runs))
    if peer_python:
        answer = out_root / "peer.json"
        rows.append((label, "peer", "", answer))
        jobs.append((peer_run(peer_python, video, cast, answer), args.peer_runs))
    return [(label, kind, mode, frames, t, rss, out) for (label, kind, mode, out), (t, rss) in zip(rows, measure(jobs))]


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=positive, default=3, help="runs per screentime and ffmpeg row (best kept)")
    parser.add_argument("--peer-runs", type=positive, default=1, help="runs of the peer")
    parser.add_argument("--peer-1080p", action="store_true", help="also run the peer on the 1080p input")
    parser.add_argument("--no-peer", action="store_true", help="no peer rows (and no peer venv)")
    parser.add_argument("--hour", action="store_true", help="also a 1-hour 1080p input (~20 min)")
    parser.add_argument("--real", action="store_true", help="also real clips from ../shared/data/real (~15 min)")
    args = parser.parse_args()
    started = time.monotonic()
    os.chdir(ROOT)
    binary = Path(os.path.relpath(BINARY, ROOT))
    cast = BENCH / "cast"
    (cast / WHO).mkdir(parents=True, exist_ok=True)
    shutil.copyfile("data/photos/obama.jpg", cast / WHO / "official.jpg")
    videos = {size: make_input(size, passes) for size, passes in SIZES.items()}
    peer_python = peer_venv.ensure(peer_venv.VENV.relative_to(ROOT)) if not args.no_peer else None

    # One row per measurement: (input, kind, mode, frames, seconds, peak KiB, result to score).
    rows = []
    for size, video in videos.items():
        with_peer = size == "640x360" or args.peer_1080p
        rows += measure_input(args, binary, size, video, cast, BENCH / "out" / size, peer_python if with_peer else None)

    # Real clips, keyed by their "input" cell; the peer always runs on them (the acceptance
    # compares with it there).
    reals = {}
    if args.real and not SHARED.is_dir():
        print(f"skipped the real clips: {os.path.relpath(SHARED, ROOT)} is absent", file=sys.stderr)
    elif args.real:
        reals = {real.label: real for real in real_inputs()}
    for real in reals.values():
        rows += measure_input(args, binary, real.label, real.video, real.cast, BENCH / "out" / real.name,
                              peer_python if real.peer else None, real.modes)

    if args.hour:
        video = make_hour()
        print(f"measuring {HOUR} (about 20 minutes)", file=sys.stderr)
        frames = count_frames(video, packets=True)
        [(name, decode)] = decode_commands(video, refs=False)  # the 30 s input's, 120 times over
        cmd, out = screentime_run(binary, video, cast, BENCH / "out" / HOUR, "")
        (ffmpeg_t, ffmpeg_rss), (t, rss) = measure([(decode, 1), (cmd, 1)])
        rows += [
            (HOUR, "decode", name, frames, ffmpeg_t, ffmpeg_rss, None),
            (HOUR, "screentime", "", frames, t, rss, out),
        ]

    # Score every row against its input's truth and print the table (and write it as markdown).
    text_rows, md_rows, notes = [], [], []
    for size in dict.fromkeys(r[0] for r in rows):
        here = [r for r in rows if r[0] == size]
        scores = score_real(binary, reals[size], here) if size in reals else score_generated(size, here)
        decode_t = next(r[4] for r in here if r[2] == DECODE)
        peer_t = next((r[4] for r in here if r[1] == "peer"), None)
        for (_, kind, mode, frames, t, rss, out), (recall, false_s) in zip(here, scores):
            if kind == "decode":
                label = (mode, f"`{mode}`")
            elif kind == "screentime":
                mode = mode or "(default)"
                label = (f"screentime {mode}", f"screentime `{mode}`")
            else:
                label = ("face_recognition 1.3.0", "face_recognition 1.3.0 (`hog`, upsample 1)")
                result = json.loads(out.read_text())
                notes.append(f"face_recognition's frame loop alone on {size}: {result['frames_per_second']:.1f} fps; "
                             f"start-up and cast {result['seconds']['start'] + result['seconds']['cast']:.1f} s")
            cells = [
                str(frames), f"{t:.2f}", f"{frames / t:.1f}",
                f"{100 * decode_t / t:.1f}%",
                f"{peer_t / t:.1f}x" if peer_t and kind != "decode" else "-",
                "-" if recall is None else f"{100 * recall:.1f}%",
                "-" if false_s is None else f"{false_s:.2f}",
                f"{rss * 1024 / 1e6:.0f}",
            ]
            text_rows.append([size, label[0], *cells])
            md_rows.append([size, label[1], *cells])

    header = ["input", "mode", "frames", "seconds", "fps", "vs decode", "vs peer", "recall", "false s", "peak RSS MB"]
    align = "ll" + "r" * (len(header) - 2)
    has_peer = any(r[1] == "peer" for r in rows)
    footer = [f"Whole jobs timed (start-up and cast loading included); best of {args.runs} runs, "
              "an input's rows in turn"
              + (f" (peer: {args.peer_runs}, on one core, as face_recognition's example runs)" if has_peer else "")
              + f"; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}, {len(os.sched_getaffinity(0))} cores."]
    if reals:
        footer.append(f"Real clips ({os.path.relpath(SHARED, ROOT)}): recall is the worst cast member's and false s "
                      "every second credited to someone not on screen, by `screentime score` against the truth by eye "
                      f"(tests/truth); fotb-{FOTB_CUT_SECONDS}s is the first {FOTB_CUT_SECONDS} s of fotb.mp4, "
                      "fotb-1080p all of it scaled to 1920x1080.")
    footer += notes
    print("\n".join(text_table(header, text_rows, align)))
    print("\n".join(f"({f})" for f in footer))
    # Markdown: the table, then each footnote as its own paragraph.
    (BENCH / "table.md").write_text("\n\n".join([markdown_table(header, md_rows, align), *footer]) + "\n")
    print(f"(table also in {BENCH / 'table.md'}; the bench took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
