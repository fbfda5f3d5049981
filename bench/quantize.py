"""The INT8 detector's calibration, and how far its faces are from the fp32 detector's.

Usage: bench/quantize.py [--calibrate] [--binary PATH] [--out DIR]

--calibrate  measures the activation ranges of CenterFace (fp32, models/centerface.onnx) on real
             frames and rewrites setup/centerface_int8_calibration.json, from which scripts/setup
             makes models/centerface_int8.onnx (run it again afterwards). The frames: fotb every
             2 s from 1 s, talk every 3 s, four frames of each pexels face clip, one of each GRID
             clip (../shared/data/real), and the registry photos, each scaled as the detector
             scales a frame (longer side at most 640).
Always:      compares the two installed detectors, through `screentime embed --detector`, on the
             fotb frames every 2 s from 2 s (none of them calibrated on): faces the fp32 detector
             finds that the INT8 one misses (no box overlapping by IoU 0.5) or adds, and how far
             apart the landmarks are, as a share of the face's width. Beside it, the same for
             the fp32 detector against itself on the same frames saved again as JPEG (ffmpeg's
             -q:v 3, about quality 90): how much the network's answer moves when the pixels move
             that little. For each face both find, also how far apart its two dlib descriptors
             are.
Writes the frames under OUT (target/quantize).
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

from common import BINARY, ROOT, SHARED, ffmpeg, run

SETUP_PYTHON = ROOT / ".venv" / "bin" / "python"
RANGES = ROOT / "setup" / "centerface_int8_calibration.json"
# Longer side at most 640 (the detector's), never enlarged, as ffmpeg's scale filter says it.
FIT = "scale=w='min(640,iw)':h='min(640,ih)':force_original_aspect_ratio=decrease"


def frames(video: Path, times: list[float], out: Path, suffix: str, vf: str = FIT) -> list[Path]:
    """One image per time (seconds) of `video`."""
    made = []
    for t in times:
        image = out / f"{video.stem}_{t:06.2f}.{suffix}"
        if not image.is_file():
            ffmpeg("-ss", str(t), "-i", video, "-frames:v", "1", "-vf", vf, image)
        made.append(image)
    return made


def calibration_frames(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    images = frames(SHARED / "fotb" / "fotb.mp4", [1.0 + 2 * i for i in range(41)], out, "ppm")
    images += frames(SHARED / "pexels" / "WolfgangLanger_Pexels.mp4", [1.0 + 3 * i for i in range(7)], out, "ppm")
    for clip in ["face_noface.mov", "noface_face.mov"]:
        images += frames(SHARED / "pexels" / clip, [0.5, 2.0, 3.5, 5.0], out, "ppm")
    for clip in sorted((SHARED / "grid").glob("*.mpg")):
        images += frames(clip, [1.5], out, "ppm")
    for photo in sorted((ROOT / "data" / "photos").glob("*.jpg")):
        image = out / f"{photo.stem}.ppm"
        if not image.is_file():
            ffmpeg("-i", photo, "-vf", FIT, image)
        images.append(image)
    return images


def faces(binary: Path, images: list[Path], detector: str) -> dict[str, list[dict]]:
    """Every face `screentime embed --detector` finds, per image."""
    found = {str(i): [] for i in images}
    lines = run([binary, "embed", "--detector", detector, *images]).splitlines()
    for face in map(json.loads, lines):
        if "box" in face:
            found[face["image"]].append(face)
    return found


def iou(a: dict, b: dict) -> float:
    w = max(0.0, min(a["x2"], b["x2"]) - max(a["x1"], b["x1"]))
    h = max(0.0, min(a["y2"], b["y2"]) - max(a["y1"], b["y1"]))
    union = (a["x2"] - a["x1"]) * (a["y2"] - a["y1"]) + (b["x2"] - b["x1"]) * (b["y2"] - b["y1"]) - w * h
    return w * h / union if union > 0 else 0.0


def agreement(reference: dict[str, list[dict]], other: dict[str, list[dict]]) -> dict:
    """Faces of `reference` missed by `other`, faces `other` adds, and for each face both find
    the landmark distance (largest of the five, over the face's width) and the distance between
    the two descriptors (dlib's, which the run's same-person threshold of 0.6 applies to)."""
    missed = added = 0
    distances, descriptors = [], []
    for (_, ours), theirs in zip(reference.items(), other.values()):
        used = set()
        for face in ours:
            match = max(range(len(theirs)), key=lambda i: iou(face["box"], theirs[i]["box"]), default=None)
            if match is None or match in used or iou(face["box"], theirs[match]["box"]) < 0.5:
                missed += 1
                continue
            used.add(match)
            width = face["box"]["x2"] - face["box"]["x1"]
            distances.append(max(abs(p - q) for a, b in zip(face["landmarks"], theirs[match]["landmarks"])
                                 for p, q in zip(a, b)) / width)
            descriptors.append(math.dist(face["embedding"], theirs[match]["embedding"]))
        added += len(theirs) - len(used)
    distances.sort()
    descriptors.sort()
    return {"faces": sum(map(len, reference.values())), "missed": missed, "added": added,
            "landmarks_median": statistics.median(distances),
            "landmarks_p95": distances[int(0.95 * (len(distances) - 1))],
            "descriptor_median": statistics.median(descriptors), "descriptor_max": descriptors[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibrate", action="store_true", help="rewrite setup/centerface_int8_calibration.json")
    parser.add_argument("--binary", type=Path, default=BINARY)
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "quantize")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"bench/quantize.py: {SHARED} is absent: it needs the development footage", file=sys.stderr)
        return 1
    if args.calibrate:
        images = calibration_frames(args.out / "calibration")
        print(f"calibrating on {len(images)} images", file=sys.stderr)
        subprocess.run([SETUP_PYTHON, ROOT / "setup" / "quantize_centerface.py", "--calibrate",
                        ROOT / "models" / "centerface.onnx", RANGES, *images], check=True)
        print(f"wrote {RANGES.relative_to(ROOT)}: run scripts/setup to make the INT8 model from it")
        return 0

    held_out = args.out / "held_out"
    held_out.mkdir(parents=True, exist_ok=True)
    times = [2.0 + 2 * i for i in range(40)]
    images = frames(SHARED / "fotb" / "fotb.mp4", times, held_out, "png", vf="null")
    again = [image.with_suffix(".jpg") for image in images]
    for image, jpeg in zip(images, again):
        if not jpeg.is_file():
            ffmpeg("-i", image, "-q:v", "3", jpeg)
    fp32 = faces(args.binary, images, "fp32")
    rows = [("int8 against fp32", agreement(fp32, faces(args.binary, images, "int8"))),
            ("fp32 against itself, frames saved again as JPEG", agreement(fp32, faces(args.binary, again, "fp32")))]
    print(f"fotb, {len(images)} frames every 2 s from 2 s (not calibrated on), at 1280x720:")
    for name, row in rows:
        print(f"  {name}: of {row['faces']} faces, {row['missed']} missed, {row['added']} added; landmarks "
              f"{100 * row['landmarks_median']:.2f}% of the face's width apart (median), "
              f"{100 * row['landmarks_p95']:.2f}% (95th percentile); descriptors {row['descriptor_median']:.3f} "
              f"apart (median), {row['descriptor_max']:.3f} at most")
    return 0


if __name__ == "__main__":
    sys.exit(main())
