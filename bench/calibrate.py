"""Calibrates each embedder's thresholds on labelled face pairs: how often two faces of one
person and of two people fall below a distance, for dlib's network and for ArcFace, side by side.

Usage: bench/calibrate.py [--binary PATH] [--out DIR]

Faces (each the one face `screentime embed` finds that counts, embedded by the binary itself,
so the detector, alignment and embedder are those a run uses):
- the registry photos in data/photos (obama x3, biden), fetched by scripts/setup;
- ../shared/data (development data; each set is skipped where absent): knn (train photos and
  the one-person test photos: 5 people), bbt cast crops (8 people x 5, padded as cast photos
  are), the 11 GRID clips (3 frames each; who is who from tests/truth/grid_cuts.json,
  grid_pairs.json and grid_cast.json: 10 speakers), and fotb (the six cast photos, and a frame
  every 2 s where tests/truth/fotb.csv has exactly one person on screen and one face is found).
Pairs: every two faces of different people is an impostor pair; every two faces of one person
from different sources (another photo, GRID clip, or fotb cast photo or 10 s of the scene, so
that near-identical neighbouring frames do not count) is a genuine pair.

Prints, per embedder: the pairs, the rate of genuine pairs accepted (TPR) at false-match rates
(FPR) of 0.1% and 1%, the equal-error point, and dlib's operating point (0.6) carried over to
ArcFace as the distance with the same FPR. From that it derives ArcFace's thresholds
(src/face/model.rs, EmbedderKind::thresholds):
- same_person: the distance at an FPR of 0.1%. Carrying dlib's FPR at 0.6 over (2.4% here,
  mostly fotb's family members, whom dlib confuses) gave a distance where ArcFace accepts no
  more genuine pairs and 20 times the impostors: on the GRID montages it named three of the
  four strangers after cast members (at 1.28-1.30; every true match at most 0.49);
- uncertain: dlib re-checks matches within 0.08 of 0.6, i.e. between 0.52 and 0.68; each edge
  is carried over by the share of pairs below it (the mean of the genuine and the impostor
  share, so both distributions count equally), and the band's half width is ArcFace's;
- group: dlib's 0.55 carried over the same way, then checked against the knn photos as dlib's
  was (every same-person link grouping needs below it, every different-people pair above).
Writes OUT/calibration.json with every number (OUT: target/calibrate).
"""

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

from common import BINARY, ROOT, TRUTH, ffmpeg

SHARED = ROOT.parent / "shared" / "data"
EMBEDDERS = ["dlib", "arcface"]
DLIB = {"same_person": 0.6, "uncertain": 0.08, "group": 0.55}
FOTB_STEP_S = 2.0
FOTB_SOURCE_S = 10.0


def faces_to_embed(work: Path) -> list[tuple[Path, str, str]]:
    """(image, person, source) for every labelled face; images made under work."""
    items = [(p, p.stem.rstrip("0123456789"), p.name) for p in sorted((ROOT / "data" / "photos").glob("*.jpg"))]
    knn = SHARED / "knn"
    if knn.is_dir():
        for person in sorted((knn / "train").iterdir()):
            items += [(p, person.name, p.name) for p in sorted(person.iterdir())]
        for photo, person in [("alex_lacamoire1.jpg", "alex_lacamoire"), ("johnsnow_test1.jpg", "kit_harington"),
                              ("obama1.jpg", "obama")]:
            items.append((knn / "test" / photo, person, photo))
    else:
        print("skipped knn: ../shared/data is absent", file=sys.stderr)
    bbt = SHARED / "bbt" / "cast"
    if bbt.is_dir():
        for person in sorted(bbt.iterdir()):
            for crop in sorted(person.iterdir()):
                # A tight crop gives the detector no context: padded as cast enrolment pads it.
                padded = work / "bbt" / f"{crop.stem}.png"
                padded.parent.mkdir(parents=True, exist_ok=True)
                if not padded.is_file():
                    ffmpeg("-i", crop, "-vf", "pad=iw*3:ih*3:iw:ih:black", padded)
                items.append((padded, f"bbt:{person.name}", crop.name))
    grid = SHARED / "real" / "grid"
    if grid.is_dir():
        who = {}
        for spec in ["grid_cuts.json", "grid_pairs.json"]:
            for seg in json.loads((TRUTH / spec).read_text())["segments"]:
                for part in seg.get("tiles", [seg]):
                    if "clip" in part:
                        who[Path(part["clip"]).name] = part["who"]
        for name, (clip, _) in json.loads((TRUTH / "grid_cast.json").read_text()).items():
            who[Path(clip).name] = name
        for clip in sorted(grid.glob("*.mpg")):
            for frame in [10, 40, 70]:
                image = work / "grid" / f"{clip.stem}_{frame}.png"
                image.parent.mkdir(parents=True, exist_ok=True)
                if not image.is_file():
                    ffmpeg("-i", clip, "-vf", f"select=eq(n\\,{frame})", "-fps_mode", "passthrough",
                           "-frames:v", "1", image)
                items.append((image, "grid:" + who[clip.name].removeprefix("unknown:"), clip.name))
    fotb = SHARED / "real" / "fotb"
    if fotb.is_dir():
        items += [(p, f"fotb:{p.stem}", p.name) for p in sorted((fotb / "cast").glob("*.png"))]
        items += fotb_frames(work, fotb / "fotb.mp4")
    return items


def fotb_frames(work: Path, video: Path) -> list[tuple[Path, str, str]]:
    """A frame every FOTB_STEP_S seconds where the truth has exactly one person on screen."""
    rows = list(csv.DictReader((TRUTH / "fotb.csv").open()))
    fps = 24000 / 1001
    last = max(int(r["end_frame"]) for r in rows)
    picked = []
    frame = 0
    while frame <= last:
        on = {r["name"] for r in rows if int(r["start_frame"]) <= frame <= int(r["end_frame"])}
        if len(on) == 1 and not next(iter(on)).startswith(("?", "unknown")):
            picked.append((frame, next(iter(on))))
        frame += round(FOTB_STEP_S * fps)
    out = work / "fotb"
    out.mkdir(parents=True, exist_ok=True)
    missing = [f for f, _ in picked if not (out / f"f{f}.png").is_file()]
    if missing:
        # ffmpeg numbers what it writes 1, 2, ...: renamed to the frame numbers.
        select = "+".join(f"eq(n\\,{f})" for f in missing)
        ffmpeg("-i", video, "-vf", f"select={select}", "-fps_mode", "passthrough", out / "%d.png")
        for number, frame in enumerate(missing, 1):
            (out / f"{number}.png").rename(out / f"f{frame}.png")
    return [(out / f"f{f}.png", f"fotb:{name}", f"fotb@{int(f / fps // FOTB_SOURCE_S)}") for f, name in picked]


def embed(binary: Path, items, embedder: str) -> list[tuple[str, str, list[float]] | None]:
    """Per item, (person, source, descriptor) of its one counting face (None where not one)."""
    out = subprocess.run([str(binary), "embed", "--embedder", embedder, *[str(i[0]) for i in items]],
                         capture_output=True, text=True)
    found: dict[str, list] = {}
    for line in out.stdout.splitlines():
        face = json.loads(line)
        if face["counts"]:
            found.setdefault(face["image"], []).append(face["embedding"])
    return [(person, source, found[str(image)][0]) if len(found.get(str(image), [])) == 1 else None
            for image, person, source in items]


def distance(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


def share_below(values: list[float], t: float) -> float:
    return sum(v < t for v in values) / len(values)


def at_rate(values: list[float], rate: float) -> float:
    """The distance below which `rate` of the values lie (linear between neighbours)."""
    s = sorted(values)
    k = rate * len(s)
    if k <= 0:
        return s[0]
    if k >= len(s):
        return s[-1]
    i = int(k)
    return s[i - 1] + (s[min(i, len(s) - 1)] - s[i - 1]) * (k - i)


def carry(d: float, genuine_from, impostor_from, genuine_to, impostor_to) -> float:
    """The distance in the other embedder with the same balanced share of pairs below it."""
    target = (share_below(genuine_from, d) + share_below(impostor_from, d)) / 2
    lo, hi = 0.0, 2.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if (share_below(genuine_to, mid) + share_below(impostor_to, mid)) / 2 < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def knn_gap(faces) -> tuple[float, float]:
    """On the knn photos: the largest same-person link single linkage needs (the longest edge
    of each person's minimum spanning tree) and the smallest different-people distance."""
    knn = [f for f in faces if f[3]]
    need, apart = 0.0, float("inf")
    people = {f[0] for f in knn}
    for person in people:
        mine = [f[2] for f in knn if f[0] == person]
        inside, rest = [mine[0]], mine[1:]
        while rest:
            d, j = min((min(distance(r, i) for i in inside), j) for j, r in enumerate(rest))
            need = max(need, d)
            inside.append(rest.pop(j))
    for i, a in enumerate(knn):
        for b in knn[i + 1:]:
            if a[0] != b[0]:
                apart = min(apart, distance(a[2], b[2]))
    return need, apart


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, default=BINARY)
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "calibrate")
    args = parser.parse_args()
    work = args.out.resolve()
    items = faces_to_embed(work)
    knn_people = {"alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie"}
    result = {"faces": {}, "embedders": {}}
    dists = {}
    for embedder in EMBEDDERS:
        embedded = embed(args.binary.resolve(), items, embedder)
        faces = [(e[0], e[1], e[2], str(i[0]).startswith(str(SHARED / "knn")) and e[0] in knn_people)
                 for i, e in zip(items, embedded) if e is not None]
        genuine, impostor = [], []
        for i, a in enumerate(faces):
            for b in faces[i + 1:]:
                if a[0] != b[0]:
                    impostor.append(distance(a[2], b[2]))
                elif a[1] != b[1]:
                    genuine.append(distance(a[2], b[2]))
        dists[embedder] = (genuine, impostor)
        lo, hi = 0.0, 2.0
        for _ in range(60):  # equal error: FPR rising, FNR falling with the threshold
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if share_below(impostor, mid) < 1 - share_below(genuine, mid) else (lo, mid)
        eer_t = (lo + hi) / 2
        result["faces"][embedder] = {"faces": len(faces), "of": len(items), "people": len({f[0] for f in faces})}
        result["embedders"][embedder] = {
            "genuine_pairs": len(genuine), "impostor_pairs": len(impostor),
            "tpr_at_fpr_0.1%": share_below(genuine, at_rate(impostor, 0.001)),
            "threshold_at_fpr_0.1%": at_rate(impostor, 0.001),
            "tpr_at_fpr_1%": share_below(genuine, at_rate(impostor, 0.01)),
            "threshold_at_fpr_1%": at_rate(impostor, 0.01),
            "eer": share_below(impostor, eer_t), "eer_threshold": eer_t,
            "knn_link_needed_and_apart": knn_gap(faces),
        }
    (dg, di), (ag, ai) = dists["dlib"], dists["arcface"]
    dlib_fpr = share_below(di, DLIB["same_person"])
    same = at_rate(ai, dlib_fpr)
    result["dlib_at_0.6"] = {"fpr": dlib_fpr, "tpr": share_below(dg, DLIB["same_person"])}
    result["arcface_at_dlib_fpr"] = {"threshold": same, "fpr": share_below(ai, same), "tpr": share_below(ag, same)}
    same = result["embedders"]["arcface"]["threshold_at_fpr_0.1%"]
    edges = [carry(DLIB["same_person"] + s * DLIB["uncertain"], dg, di, ag, ai) for s in (-1, 1)]
    group = carry(DLIB["group"], dg, di, ag, ai)
    result["arcface"] = {"same_person": same, "uncertain_band": edges, "uncertain": (edges[1] - edges[0]) / 2,
                         "group": group, "tpr_at_group": share_below(ag, group), "fpr_at_group": share_below(ai, group)}

    for embedder, r in result["embedders"].items():
        f = result["faces"][embedder]
        need, apart = r["knn_link_needed_and_apart"]
        print(f"{embedder:8} {f['faces']}/{f['of']} faces, {f['people']} people; {r['genuine_pairs']} genuine, "
              f"{r['impostor_pairs']} impostor pairs; TPR {100 * r['tpr_at_fpr_0.1%']:.1f}% at FPR 0.1% "
              f"(d {r['threshold_at_fpr_0.1%']:.3f}), {100 * r['tpr_at_fpr_1%']:.1f}% at FPR 1% "
              f"(d {r['threshold_at_fpr_1%']:.3f}); EER {100 * r['eer']:.2f}% at d {r['eer_threshold']:.3f}; "
              f"knn: links needed <= {need:.3f}, people >= {apart:.3f} apart")
    d, a = result["dlib_at_0.6"], result["arcface_at_dlib_fpr"]
    print(f"dlib at 0.6: FPR {100 * d['fpr']:.2f}%, TPR {100 * d['tpr']:.1f}%; ArcFace at the same FPR: "
          f"d {a['threshold']:.3f} (cosine {1 - a['threshold'] ** 2 / 2:.3f}), FPR {100 * a['fpr']:.2f}%, "
          f"TPR {100 * a['tpr']:.1f}%")
    c = result["arcface"]
    print(f"ArcFace: same_person {c['same_person']:.3f} (FPR 0.1%, cosine {1 - c['same_person'] ** 2 / 2:.3f}); "
          "dlib's band 0.52-0.68 carried over: "
          f"{c['uncertain_band'][0]:.3f}-{c['uncertain_band'][1]:.3f}, uncertain {c['uncertain']:.3f}; "
          f"group {c['group']:.3f} (TPR {100 * c['tpr_at_group']:.1f}%, FPR {100 * c['fpr_at_group']:.2f}%)")
    work.mkdir(parents=True, exist_ok=True)
    (work / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"(every number in {work / 'calibration.json'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
