"""Where a result's misses and false seconds come from, stage by stage: the numbers behind the
accuracy page (docs/accuracy.md).

Usage: bench/stages.py VIDEO TRUTH.csv CAST_DIR RESULT_DIR... [--binary PATH] [--every N]

Every Nth frame (default 1) of VIDEO is decoded by ffmpeg (kept as high-quality JPEG) and run
through `screentime embed`,
which gives every face the detector finds, whether it counts as on screen (turned to the camera
and not cut by the frame edge) and its descriptor; CAST_DIR/screentime-cast.json (written by the
run) gives the cast's. Each frame's faces are paired with the people the truth has on screen
there, closest descriptor first. Then, for each RESULT_DIR (runs of one video in several modes
share the frames' faces), every second a cast member is on screen (certain frames of the truth)
but not credited to them in RESULT_DIR/segments.csv is put down to the first stage that lost
it:

- detector: fewer faces found than people on screen, and this person got none;
- frontal rule: their face was found but does not count (turned too far, or cut by the edge);
- distance: it counts, its closest cast member is the right one, but beyond the threshold;
- confused: its closest cast member is someone else;
- tracking and decision: the face alone would have been named right (closest, within the
  threshold), yet the result does not credit the person: lost by tracking, a cut, the track's
  decision over all its faces, or the stride's sampling.

Every second credited to someone not on screen is put down to: a cast member misnamed; a cast
member's face left unnamed (an unknown_N while a cast member on screen went uncredited); or a
face that is not on screen by the truth (a profile, a covered face, a false detection).

The pairing is a heuristic (it cannot tell two people apart better than the embedder), so the
stages are indications, not exact counts. Prints two tables per result.
"""

import argparse
import collections
import csv
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THRESHOLD = 0.6
NEIGHBOURS = 5  # as src/identity/matching.rs (CAST_NEIGHBOURS): the mean of an actor's 5 closest photos


def frame_times(video: Path) -> list[tuple[float, float]]:
    """Each frame's start and end in seconds, from its best-effort timestamp as screentime's
    reader takes it."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=best_effort_timestamp_time", "-of", "csv=p=0", str(video)],
                         capture_output=True, text=True, check=True).stdout.split()
    starts = [float(t.strip(",")) for t in out if t.strip(",")]
    starts = [t - starts[0] for t in starts]
    ends = starts[1:] + [starts[-1] + (starts[-1] - starts[-2] if len(starts) > 1 else 0.04)]
    return list(zip(starts, ends))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("truth", type=Path)
    parser.add_argument("cast", type=Path)
    parser.add_argument("results", type=Path, nargs="+")
    parser.add_argument("--binary", type=Path, default=ROOT / "target" / "release" / "screentime")
    parser.add_argument("--every", type=int, default=1, help="look at every Nth frame")
    args = parser.parse_args()

    cast = json.loads((args.cast / "screentime-cast.json").read_text())
    photos = collections.defaultdict(list)
    for photo in cast["photos"]:
        if photo.get("descriptor"):
            photos[photo["name"]].append(photo["descriptor"])

    def distance(a, b):
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))

    def actor_distance(embedding, actor):
        closest = sorted(distance(embedding, d) for d in photos[actor])[:NEIGHBOURS]
        return sum(closest) / len(closest)

    certain, possible = collections.defaultdict(set), collections.defaultdict(set)
    for row in csv.DictReader(open(args.truth)):
        name = row["name"].lstrip("?")
        for f in range(int(row["start_frame"]), int(row["end_frame"]) + 1):
            possible[f].add(name)
            if not row["name"].startswith("?"):
                certain[f].add(name)

    times = frame_times(args.video)
    with tempfile.TemporaryDirectory() as tmp:
        pattern = str(Path(tmp) / "%06d.jpg")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(args.video), "-vf",
                        f"select=not(mod(n\\,{args.every}))", "-fps_mode", "passthrough",
                        "-q:v", "2", "-start_number", "0", pattern], check=True)
        images = sorted(Path(tmp).glob("*.jpg"))
        lines = subprocess.run([str(args.binary), "embed", *map(str, images)],
                               capture_output=True, text=True).stdout.splitlines()
    faces = collections.defaultdict(list)
    for line in lines:
        face = json.loads(line)
        faces[int(Path(face["image"]).stem) * args.every].append(face)

    # Per frame, the first stage that loses each cast member the truth has on screen there,
    # should the result not credit them.
    stage_of = {}
    for f in range(0, len(times), args.every):
        cast_people = [p for p in sorted(possible[f]) if p in photos]
        pairs = sorted((actor_distance(face["embedding"], p), i, p)
                       for i, face in enumerate(faces[f]) for p in cast_people)
        face_of, used = {}, set()
        for d, i, p in pairs:
            if p not in face_of and i not in used:
                face_of[p] = (faces[f][i], d)
                used.add(i)
        stage_of[f] = {}
        for p in sorted(certain[f]):
            if p not in photos:
                continue
            if p not in face_of:
                stage = "detector"
            else:
                face, d = face_of[p]
                nearest = min(photos, key=lambda a: actor_distance(face["embedding"], a))
                if not face["counts"]:
                    stage = "frontal rule"
                elif nearest != p:
                    stage = "confused"
                elif d > THRESHOLD:
                    stage = "distance"
                else:
                    stage = "tracking and decision"
            stage_of[f][p] = stage
    for result in args.results:
        report(result, times, args.every, stage_of, certain, possible, photos)
    return 0


def report(result, times, every, stage_of, certain, possible, photos):
    """Prints where `result`'s missed and false seconds come from, every `every`th frame
    standing for the frames up to the next."""
    credited = collections.defaultdict(set)
    for row in csv.DictReader(open(result / "segments.csv")):
        start, end = float(row["start"]), float(row["end"])
        for f, (a, b) in enumerate(times):
            if start <= (a + b) / 2 < end:
                credited[f].add(row["name"])
    missed = collections.defaultdict(collections.Counter)
    false = collections.Counter()
    for f, lost in stage_of.items():
        seconds = (times[f][1] - times[f][0]) * every
        for p, stage in lost.items():
            if p not in credited[f]:
                missed[p][stage] += seconds
        for label in credited[f] - possible[f]:
            if label in photos:
                cause = "cast member misnamed"
            elif any(p not in credited[f] for p in certain[f] if p in photos):
                cause = "cast member left unnamed"
            else:
                cause = "face not on screen by the truth"
            false[cause] += seconds

    stages = ["detector", "frontal rule", "distance", "confused", "tracking and decision"]
    print(f"{result}: missed seconds by stage")
    print(f"  {'person':10}" + "".join(f"{s:>22}" for s in stages))
    for p in sorted(missed):
        print(f"  {p:10}" + "".join(f"{missed[p][s]:>22.2f}" for s in stages))
    total = {s: sum(m[s] for m in missed.values()) for s in stages}
    print(f"  {'all':10}" + "".join(f"{total[s]:>22.2f}" for s in stages))
    print("false seconds by cause")
    for cause, value in false.most_common():
        print(f"  {cause:34} {value:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
