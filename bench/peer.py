"""The peer tool for scripts/bench: screen time with face_recognition 1.3.0, the way its own
examples/facerec_from_video_file.py does it.

Usage: peer.py VIDEO CAST_DIR --out JSON [--tolerance 0.6] [--upsample 1]

Runs in target/bench/peer-venv (bench/requirements-peer.txt), made by scripts/bench.

- Cast: CAST_DIR holds one sub-folder of photos per actor (`CAST_DIR/Name/*.jpg`) and/or photos
  named after actors (`CAST_DIR/Name.jpg`), as screentime's --cast does. Each photo is encoded
  with face_recognition (its first face); a photo without a face is skipped with a warning.
- Video: every frame is read with OpenCV (cv2.VideoCapture), converted BGR -> RGB, its faces found
  with face_locations(rgb, number_of_times_to_upsample=1, model="hog") and encoded with
  face_encodings(rgb, locations). Each face is the closest cast photo's actor when
  compare_faces(known, face, tolerance=0.6) accepts that photo (as the example
  facerec_from_webcam_faster.py picks it), else nobody. One process, no threads: the example
  works so, and dlib's HOG detector uses one core.

Output JSON:
    {"tool": "face_recognition 1.3.0", "video": ..., "width": ..., "height": ...,
     "fps": 25.0,                    # the stream's frame rate: frame i starts at i / fps
     "frames": 150,                  # frames read
     "faces": 150, "unknown_faces": 50,
     "seconds": {"start": ..., "cast": ..., "frames": ..., "total": ...},
     "frames_per_second": ...,       # frames / seconds.frames (the frame loop alone)
     "settings": {...},
     "cast": {"Barack Obama": 1},    # photos encoded per actor
     "recognised": {"Barack Obama": {"frames": 100, "runs": [[0, 49], [100, 149]]}}}

`runs` are the frame-index runs, first and last frame inclusive, in which the actor was
recognised; every cast member has an entry (empty when never recognised). `seconds.start` is
importing face_recognition (loading dlib's models), `cast` encoding the cast, `frames` the frame
loop, `total` all three. The file is written to a temporary name and renamed.
"""

import time

STARTED = time.perf_counter()  # before the imports: loading dlib's models is part of the job

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

# face_recognition_models 0.3.0 finds its files with pkg_resources, which setuptools 80 flags as
# deprecated on every import; the warning says nothing about this run.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

import cv2  # noqa: E402
import face_recognition  # noqa: E402
import numpy as np  # noqa: E402

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def cast_photos(cast_dir: Path) -> list[tuple[str, Path]]:
    """(actor, photo) pairs in name order: sub-folders of photos and photos named after actors."""
    pairs = []
    for entry in sorted(cast_dir.iterdir()):
        if entry.is_dir():
            pairs += [(entry.name, p) for p in sorted(entry.iterdir())
                      if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES]
        elif entry.is_file() and entry.suffix.lower() in PHOTO_SUFFIXES:
            pairs.append((entry.stem, entry))
    return pairs


def load_cast(cast_dir: Path) -> tuple[list[str], list[np.ndarray]]:
    names, encodings = [], []
    for name, photo in cast_photos(cast_dir):
        found = face_recognition.face_encodings(face_recognition.load_image_file(photo))
        if not found:
            print(f"warning: {photo}: no face found; skipped", file=sys.stderr)
            continue
        names.append(name)
        encodings.append(found[0])
    if not encodings:
        sys.exit(f"error: {cast_dir}: no cast photo with a face")
    return names, encodings


def to_runs(frames: list[int]) -> list[list[int]]:
    """Sorted frame indices as [first, last] runs of consecutive frames."""
    runs: list[list[int]] = []
    for i in frames:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("cast", type=Path, help="folder of actors' photos")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--tolerance", type=float, default=0.6,
                        help="largest face distance that is a match (face_recognition's default)")
    parser.add_argument("--upsample", type=int, default=1,
                        help="number_of_times_to_upsample for the HOG detector (its default)")
    args = parser.parse_args()
    imported = time.perf_counter()

    names, known = load_cast(args.cast)
    cast_done = time.perf_counter()

    video = cv2.VideoCapture(str(args.video))
    if not video.isOpened():
        sys.exit(f"error: {args.video}: cannot open")
    fps = video.get(cv2.CAP_PROP_FPS)
    width, height = int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT))
    seen: dict[str, list[int]] = {name: [] for name in names}
    frames = faces = unknown = 0
    while True:
        ok, frame = video.read()
        if not ok:
            break
        index, frames = frames, frames + 1
        # OpenCV decodes to BGR; dlib wants contiguous RGB (a [:, :, ::-1] view is rejected).
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        locations = face_recognition.face_locations(rgb, number_of_times_to_upsample=args.upsample,
                                                    model="hog")
        here = set()
        for encoding in face_recognition.face_encodings(rgb, locations):
            faces += 1
            matches = face_recognition.compare_faces(known, encoding, tolerance=args.tolerance)
            best = int(np.argmin(face_recognition.face_distance(known, encoding)))
            if matches[best]:
                here.add(names[best])
            else:
                unknown += 1
        for name in here:  # an actor seen twice in one frame counts once
            seen[name].append(index)
    video.release()
    done = time.perf_counter()

    loop = done - cast_done
    result = {
        "tool": "face_recognition 1.3.0",
        "video": str(args.video),
        "width": width,
        "height": height,
        "fps": fps,
        "frames": frames,
        "faces": faces,
        "unknown_faces": unknown,
        "seconds": {"start": imported - STARTED, "cast": cast_done - imported, "frames": loop,
                    "total": done - STARTED},
        "frames_per_second": frames / loop if loop > 0 else None,
        "settings": {"model": "hog", "number_of_times_to_upsample": args.upsample,
                     "tolerance": args.tolerance, "num_jitters": 1},
        "cast": {name: names.count(name) for name in dict.fromkeys(names)},
        "recognised": {name: {"frames": len(idx), "runs": to_runs(idx)} for name, idx in seen.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, prefix=f".{args.out.name}.")
    with os.fdopen(fd, "w") as file:
        json.dump(result, file, indent=2)
        file.write("\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
