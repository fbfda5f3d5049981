"""How far apart one person's face tracks lie in a video, and how far different people's: what
the within-video "same person" distance (src/face/model.rs, Thresholds::same_video) rests on.

Usage: bench/grouping.py [--eval DIR] [--mode SLUG]...

Reads the `--debug-tracks` runs that bench/eval.py leaves in DIR/out/<clip>/<mode>/ (DIR:
target/eval; run it with e.g. `--mode=--debug-tracks "--mode=--stride 1 --debug-tracks"`), pairs
each track with the person on screen from the clip's truth, and prints:
- per clip, the same-person and different-person track distances (min, percentiles, max), and a
  histogram of both over all clips;
- where the run has them (screentime since tracks are grouped), how many of its own groups hold
  two labelled people;
- for a range of thresholds, what average linkage with the screentime constraints (tracks on
  screen at once are two people) makes of the labelled tracks: how many groups hold two people
  (must be none) and how many groups each person is split into (fewer is better). This
  simulation keeps apart only tracks seen together; the binary also keeps apart two clear
  matches of different actors, so its own groups can be purer at the same distance.

A track's person: each of its faces' frames (time x frame rate) names the people the truth puts
on screen there (`?` counted as possibly there). A track whose faces all see the same single
person is that person's
(a person on screen for 80% of its faces counts: a first or last face can fall across a cut).
Where several people are on screen at once (fotb's dinner table), the
truth cannot tell whose face the track is: such a track is labelled only when its closest cast
member (by its photos, not by other tracks) is among the people on screen, 0.08 closer than the
next one on screen; every other track is left out and counted.
"""

import argparse
import json
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from common import ROOT, SHARED, TRUTH

VIDEOS = {
    "fotb": SHARED / "fotb" / "fotb.mp4",
    "talk": SHARED / "pexels" / "WolfgangLanger_Pexels.mp4",
    "face_noface": SHARED / "pexels" / "face_noface.mov",
    "noface_face": SHARED / "pexels" / "noface_face.mov",
    "snape": SHARED / "snape" / "snape.mp4",
    "snape_named": SHARED / "snape" / "snape.mp4",
}
# Cast-distance margin that labels a track where several people are on screen.
LABEL_MARGIN = 0.08
MAJORITY = 0.8


def truth_file(work: Path, clip: str) -> Path:
    named = work / "videos" / f"{clip}.csv"  # montages' truth, and snape_named's (bench/eval.py)
    video = VIDEOS.get(clip)
    return TRUTH / f"{video.stem}.csv" if video and not named.is_file() else named


def video_file(work: Path, clip: str) -> Path:
    return VIDEOS.get(clip) or work / "videos" / f"{clip}.mp4"


def frame_times(video: Path) -> list[float]:
    """Every frame's presentation time, in order (the truth's frame numbers index this)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=pts_time", "-of", "csv=p=0", str(video)],
                         capture_output=True, text=True, check=True).stdout
    times = sorted(float(t.strip(",")) for t in out.split() if t.strip(",") not in ("", "N/A"))
    return [t - times[0] for t in times]


def on_screen(truth: Path) -> dict[int, dict[str, bool]]:
    """Per frame, the people on screen, each with whether it is certain (False: a `?` row)."""
    frames = defaultdict(dict)
    for line in truth.read_text().splitlines()[1:]:
        name, a, b = line.rsplit(",", 2)
        sure = not name.startswith("?")
        for f in range(int(a), int(b) + 1):
            frames[f][name.lstrip("?")] = frames[f].get(name.lstrip("?"), False) or sure
    return frames


def label(track: dict, frames, times: list[float]) -> str | None:
    import bisect
    seen = defaultdict(int)
    for face in track["faces"]:
        f = max(0, bisect.bisect_right(times, face["time"] + 1e-4) - 1)
        for person in frames.get(f, {}):
            seen[person] += 1
    # People on screen for at least MAJORITY of its faces: a track's first or last face can
    # fall a frame across a cut.
    people = {p for p, n in seen.items() if n >= MAJORITY * len(track["faces"])}
    if not people:
        return None
    if len(people) == 1:
        return next(iter(people))
    cast = sorted((d, n) for n, d in track["distances"] if n in people)
    if cast and (len(cast) == 1 or cast[1][0] - cast[0][0] >= LABEL_MARGIN) and len(cast) == len(
            [p for p in people if not p.startswith("unknown:")]):
        return cast[0][1]
    return None


def distance(a, b) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def average_linkage(tracks, threshold, merged=lambda distance, members: None):
    """Groups (lists of indices) by average linkage within threshold, tracks overlapping in time
    kept apart: the rule src/identity/cluster.rs follows. `merged` sees each merge's distance and
    the merged group."""
    n = len(tracks)
    d = [[distance(tracks[i]["descriptor"], tracks[j]["descriptor"]) for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j and tracks[i]["start"] < tracks[j]["end"] and tracks[j]["start"] < tracks[i]["end"]:
                d[i][j] = math.inf
    groups = {i: [i] for i in range(n)}
    while True:
        best = None
        for a in groups:
            for b in groups:
                if a < b and d[a][b] <= threshold and d[a][b] < math.inf and (best is None or d[a][b] < best[0]):
                    best = (d[a][b], a, b)
        if best is None:
            return list(groups.values())
        at, a, b = best
        na, nb = len(groups[a]), len(groups[b])
        for k in groups:
            if k not in (a, b):
                d[a][k] = d[k][a] = (na * d[a][k] + nb * d[b][k]) / (na + nb)
        groups[a] += groups.pop(b)
        merged(at, groups[a])


def percentiles(values):
    if not values:
        return "-"
    v = sorted(values)

    def pick(q):
        return v[min(len(v) - 1, int(q * len(v)))]

    return f"n={len(v):4d} min {v[0]:.3f} p5 {pick(0.05):.3f} p50 {pick(0.5):.3f} max {v[-1]:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=ROOT / "target" / "eval")
    parser.add_argument("--mode", action="append", help="mode folders (default: every *debug_tracks)")
    args = parser.parse_args()
    same_all, diff_all, runs = [], [], []
    for run in sorted((args.eval / "out").glob("*/*")):
        if not (run / "tracks.jsonl").is_file() or (args.mode and run.name not in args.mode):
            continue
        clip = run.parent.name
        tracks = [json.loads(line) for line in (run / "tracks.jsonl").read_text().splitlines()]
        frames, times = on_screen(truth_file(args.eval, clip)), frame_times(video_file(args.eval, clip))
        labelled = [(label(t, frames, times), t) for t in tracks]
        kept = [(who, t) for who, t in labelled if who is not None]
        same, diff = [], []
        for i, (wi, ti) in enumerate(kept):
            for wj, tj in kept[:i]:
                (same if wi == wj else diff).append(distance(ti["descriptor"], tj["descriptor"]))
        same_all += same
        diff_all += diff
        own = defaultdict(set)  # the run's own groups (tracks.jsonl "group"), where it has them
        for who, t in kept:
            if "group" in t:
                own[t["group"]].add(who)
        print(f"{clip}/{run.name}: {len(kept)} of {len(tracks)} tracks labelled, "
              f"{len({w for w, _ in kept})} people"
              + (f"; the run's groups: {len({t['group'] for t in tracks})}, "
                 f"{sum(len(w) > 1 for w in own.values())} holding two people" if own else ""))
        print(f"  same person      {percentiles(same)}")
        print(f"  different people {percentiles(diff)}")
        runs.append((f"{clip}/{run.name}", kept))
    if not runs:
        sys.exit(f"no --debug-tracks runs under {args.eval / 'out'}")
    print("\nhistogram of track distances (all runs): same | different")
    for lo in [x / 20 for x in range(0, 32)]:
        s = sum(lo <= v < lo + 0.05 for v in same_all)
        d = sum(lo <= v < lo + 0.05 for v in diff_all)
        print(f"  {lo:.2f}-{lo + 0.05:.2f} {s:5d} | {d:5d}")
    print("\naverage linkage over the labelled tracks: the first merge that puts two people in one group")
    for name, kept in runs:
        mixes = []

        def merged(d, members, mixes=mixes, kept=kept):
            if len({kept[m][0] for m in members}) > 1:
                mixes.append(d)

        average_linkage([t for _, t in kept], math.inf, merged)
        print(f"  {name}: {min(mixes):.3f}" if mixes else f"  {name}: never")
    print("\naverage linkage over the labelled tracks: groups holding two people; groups per person")
    # Around the closest two different people come (dlib's distances are about half ArcFace's).
    closest = min(diff_all)
    for threshold in [round(closest * (0.7 + 0.05 * k), 3) for k in range(11)]:
        impure, split = 0, []
        for _, kept in runs:
            groups = average_linkage([t for _, t in kept], threshold)
            people = defaultdict(set)
            for g, members in enumerate(groups):
                who = {kept[m][0] for m in members}
                impure += len(who) > 1
                for w in who:
                    people[w].add(g)
            split += [len(gs) for gs in people.values()]
        print(f"  {threshold:.3f}: {impure} impure; groups per person mean {sum(split) / len(split):.2f} "
              f"max {max(split)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
