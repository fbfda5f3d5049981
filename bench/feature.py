"""A feature-length run: screentime on a 90-minute video made from the development clips, its time
and peak memory, the share of it spent grouping and naming the tracks, and whether any label
holds people from two different source clips.

Usage: bench/feature.py [--minutes N] [--mode ARGS] [--binary PATH] [--out DIR]

The video (OUT/feature.mp4, OUT: target/bench/feature; made once, ~15 min on 2 cores) joins the
development clips of ../shared/data/real over and over, each time changed so its tracks differ
from the last time's: mirrored every other pass, cropped to 80-100% at one of three offsets,
played at 0.9-1.1x speed, all scaled and padded to 960x540 at 25 fps. Its sources are the people
in it: fotb (the cast: its six photos), snape, talk, the Pexels man (face_noface and noface_face,
one man) and GRID (the studio clips, some of which show the same speaker). Variants of one
source hold the same people, so a label may span passes but never two sources.

Prints and writes to OUT/feature_<mode>.json (the result itself is OUT/result_<mode>/): the
run's wall time, CPU time and peak RSS (wait4), the report's `identify_seconds` (grouping,
naming and tallying, after the video is read) and its share, the tracks and labels, per label
the sources it holds (seconds in each, counting a source from 3 frames on, as `screentime
score` counts a label holding a person), and the seconds credited to the cast outside fotb's
passes.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from common import BINARY, ROOT, SHARED, ffmpeg, make_cast, mode_slug, run

FPS = 25
SIZE = (960, 540)
# Which people each source clip holds: clips of one source may show the same person.
SOURCES = {
    "fotb": [SHARED / "fotb" / "fotb.mp4"],
    "snape": [SHARED / "snape" / "snape.mp4"],
    "talk": [SHARED / "pexels" / "WolfgangLanger_Pexels.mp4"],
    "pexels_man": [SHARED / "pexels" / "face_noface.mov", SHARED / "pexels" / "noface_face.mov"],
    "grid": sorted((SHARED / "grid").glob("*.mpg")),
}
# A label holds a source from this many frames of it on (screentime score's HELD_FRAMES).
HELD_FRAMES = 3


def variant(k: int) -> str:
    """Pass k's change of every clip: a filter graph."""
    crop = [1.0, 0.85, 0.92, 0.8][k % 4]
    x, y = [(0.5, 0.5), (0.3, 0.6), (0.7, 0.4)][k % 3]
    speed = [1.0, 0.9, 1.1, 0.95, 1.05][k % 5]
    w, h = SIZE
    return (f"crop=iw*{crop}:ih*{crop}:(iw-iw*{crop})*{x}:(ih-ih*{crop})*{y},"
            + ("hflip," if k % 2 else "")
            + f"setpts=PTS/{speed},fps={FPS},scale={w}:{h}:force_original_aspect_ratio=decrease,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p")


def frames(video: Path) -> int:
    """The part's frame count, counted once and kept beside it: counting 464 parts on every start
    took minutes."""
    counted = video.with_suffix(".frames")
    if counted.is_file() and counted.stat().st_mtime >= video.stat().st_mtime:
        return int(counted.read_text())
    out = run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries",
               "stream=nb_read_packets", "-of", "csv=p=0", video])
    counted.write_text(out.strip())
    return int(out.strip())


def make(out: Path, minutes: float) -> tuple[Path, list[tuple[float, float, str]]]:
    """The joined video and its timeline: (start, end, source) per clip, in seconds."""
    parts, timeline, at, k = [], [], 0.0, 0
    while at < minutes * 60:
        for source, clips in SOURCES.items():
            for clip in clips:
                part = out / "parts" / f"{k:03d}-{clip.stem}.mp4"
                if not part.is_file():
                    part.parent.mkdir(parents=True, exist_ok=True)
                    ffmpeg("-i", clip, "-an", "-vf", variant(k), "-c:v", "libx264", "-preset", "superfast",
                           "-crf", "23", "-g", "250", f"{part}.tmp.mp4")
                    os.replace(f"{part}.tmp.mp4", part)
                seconds = frames(part) / FPS
                parts.append(part)
                timeline.append((at, at + seconds, source))
                at += seconds
        k += 1
    video = out / "feature.mp4"
    listing = out / "feature.txt"
    text = "".join(f"file '{p.resolve()}'\n" for p in parts)
    if not video.is_file() or not listing.is_file() or listing.read_text() != text:
        listing.write_text(text)
        ffmpeg("-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", f"{video}.tmp.mp4")
        os.replace(f"{video}.tmp.mp4", video)
    return video, timeline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=90)
    parser.add_argument("--mode", default="", help="screentime arguments, e.g. \"--embedder arcface\"")
    parser.add_argument("--binary", type=Path, default=BINARY)
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "bench" / "feature")
    args = parser.parse_args()
    out = args.out.resolve()
    if not all(c.is_file() for clips in SOURCES.values() for c in clips):
        sys.exit("bench/feature.py: the development clips (../shared/data/real) are absent")
    video, timeline = make(out, args.minutes)
    cast = make_cast(out, "fotb")
    result = out / f"result_{mode_slug(args.mode)}"
    start = time.perf_counter()
    child = subprocess.Popen([str(args.binary), str(video), "--cast", str(cast), "--out", str(result),
                              "--quiet", "--json", *args.mode.split()], stdout=subprocess.PIPE)
    report_text = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench/feature.py: screentime exited {os.waitstatus_to_exitcode(status)}")
    report = json.loads(report_text)
    stats = report["stats"]

    # Per label, the seconds it spends in each source.
    held = defaultdict(lambda: defaultdict(float))
    for segment in report["segments"]:
        for a, b, source in timeline:
            overlap = min(b, segment["end"]) - max(a, segment["start"])
            if overlap > 0:
                held[segment["name"]][source] += overlap
    sources = {label: {s: round(t, 2) for s, t in by.items() if t * FPS >= HELD_FRAMES}
               for label, by in held.items()}
    cast_names = {p.stem for p in cast.glob("*.png")}
    cast_elsewhere = sum(t for label, by in held.items() if label in cast_names
                         for s, t in by.items() if s != "fotb")
    summary = {
        "video_minutes": round(timeline[-1][1] / 60, 1),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "identify_seconds": round(stats["identify_seconds"], 2),
        "identify_share": round(stats["identify_seconds"] / wall, 4),
        "tracks": stats["tracks"],
        "labels": len(held),
        "labels_holding_two_sources": sorted(label for label, by in sources.items() if len(by) > 1),
        "cast_seconds_outside_fotb": round(cast_elsewhere, 2),
        "sources_per_label": sources,
    }
    (out / f"feature_{mode_slug(args.mode)}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "sources_per_label"}, indent=1))
    for label, by in sorted(sources.items()):
        if len(by) > 1:
            print(f"  {label} holds {', '.join(f'{s} ({t:.2f} s)' for s, t in by.items())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
