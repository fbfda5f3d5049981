"""Accuracy on real footage: screentime's modes and the peer (face_recognition 1.3.0) scored
against truth, side by side. Run through scripts/eval (which builds the binary first).

Usage: bench/eval.py [--no-peer] [--clip NAME]... [--mode ARGS]... [--binary PATH] [--out DIR]

The clips (development data in ../shared/data/real; each is skipped, with a message, where it
is absent):
- fotb: an 82 s TV dinner scene, six cast members, one photo each; truth by eye,
  tests/truth/fotb.csv. fotb_turned: the same turned a quarter turn clockwise (ffmpeg's
  `transpose=1`, made once into OUT/videos), everyone lying on their side: faces rolled 90 degrees.
  fotb_rolled: the same rolled 60 degrees (ffmpeg's `rotate`, the frame grown to hold it, corners
  black), as a head on a pillow: between what the upright picture and a quarter turn find best.
  fotb_soft: the same as a soft old transfer (made once into OUT/videos): 854x480, blurred, film
  grain, faded contrast and colour; the wide shots' faces are 30-35 px high, at the truth's
  limit of a recognisable face, and the photos are the sharp ones.
- talk, face_noface, noface_face: one stranger each (the cast is the GRID speakers below, who are
  not in them); truth by eye, tests/truth/<video>.csv.
- grid_cuts, grid_pairs: montages of GRID studio clips (tests/truth/grid_*.json, made by
  tests/tools/make_video.py, which writes their exact truth): 14 shots with cuts, a gap and
  returning people; and pairs of people side by side, two strangers at once among them. The cast
  is six of the ten speakers, from frames the montages do not show (tests/truth/grid_cast.json).
- snape: 40 s of film scenes from two films of a series (dim classrooms, children, close-ups and
  a wide shot), truth by eye, tests/truth/snape.csv. With the GRID cast everyone is a stranger:
  each should get one label and no label should hold two people. snape_named: the same with a
  cast of one frame per lead from the first film's close-ups (tests/truth/snape_cast.json); the
  truth's strangers the cast names are scored as cast members.

Each screentime mode runs into OUT/out/<clip>/<mode>/ (OUT: target/eval); the peer's answer is
kept in OUT/peer/ and reused while the video, the cast and bench/peer.py are unchanged (it runs
at about 1 frame a second on the 720p clip). Every result is scored with `screentime score`: per
clip and tool, the worst cast member's recall, the seconds credited to someone not on screen (and
their share of the clip), how many strangers got exactly one label, and how many labels hold
two people or more. Prints the table, and
writes it as markdown to OUT/table.md and every score as JSON to OUT/scores.json (keyed
"clip / tool"), which tests/real.rs checks.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from common import (BINARY, PEER, ROOT, SHARED, TRUTH, ffmpeg, make_cast, make_video, markdown_table, peer_csv,
                    peer_run, run, score, screentime_run, sha256, text_table, worst_cast_recall)

import peer_venv

STRANGER = "unknown:"

MODES = ["", "--stride 1"]


@dataclass
class Clip:
    name: str
    cast: str  # "fotb" or "grid"
    video: Path | None = None  # a real clip, with truth by eye in tests/truth/<video stem>.csv
    montage: Path | None = None  # a make_video.py spec; the truth comes with the video
    named: bool = False  # the truth's strangers that the cast names are cast members
    variant: str | None = None  # an FFmpeg filter the video is remade with, same truth


CLIPS = [
    Clip("fotb", "fotb", video=SHARED / "fotb" / "fotb.mp4"),
    Clip("fotb_turned", "fotb", video=SHARED / "fotb" / "fotb.mp4", variant="transpose=1"),
    # Rolled 60 degrees, as a head on a pillow or a shoulder: between what the upright picture and
    # a quarter turn each find best. The frame grows to hold the whole picture, corners black.
    Clip("fotb_rolled", "fotb", video=SHARED / "fotb" / "fotb.mp4",
         variant="rotate=PI/3:ow=2*trunc(rotw(PI/3)/2):oh=2*trunc(roth(PI/3)/2)"),
    # The blur, grain (FFmpeg's noise filter draws from a fixed seed) and fading of an old TV
    # transfer.
    Clip("fotb_soft", "fotb", video=SHARED / "fotb" / "fotb.mp4",
         variant="scale=854:480,gblur=sigma=0.8,noise=alls=6:allf=t,eq=contrast=0.85:saturation=0.6"),
    Clip("talk", "grid", video=SHARED / "pexels" / "WolfgangLanger_Pexels.mp4"),
    Clip("face_noface", "grid", video=SHARED / "pexels" / "face_noface.mov"),
    Clip("noface_face", "grid", video=SHARED / "pexels" / "noface_face.mov"),
    Clip("grid_cuts", "grid", montage=TRUTH / "grid_cuts.json"),
    Clip("grid_pairs", "grid", montage=TRUTH / "grid_pairs.json"),
    Clip("snape", "grid", video=SHARED / "snape" / "snape.mp4"),
    Clip("snape_named", "snape", video=SHARED / "snape" / "snape.mp4", named=True),
]


def prepare(work: Path, clip: Clip) -> tuple[Path, Path] | None:
    """(video, truth) for the clip, or None where its footage is absent."""
    if clip.video is not None:
        if not clip.video.is_file():
            return None
        truth = TRUTH / f"{clip.video.stem}.csv"
        if clip.variant:
            return variant_video(clip.video, clip.variant, work / "videos" / f"{clip.name}.mp4"), truth
        if clip.named:
            truth = named_truth(truth, set(json.loads((TRUTH / f"{clip.cast}_cast.json").read_text())),
                                work / "videos" / f"{clip.name}.csv")
        return clip.video, truth
    spec = json.loads(clip.montage.read_text())
    sources = [(clip.montage.parent / c).resolve() for c in montage_sources(spec)]
    if not all(s.is_file() for s in sources):
        return None
    video, truth = work / "videos" / f"{clip.name}.mp4", work / "videos" / f"{clip.name}.csv"
    make_video(clip.montage, video, truth)
    return video, truth


def variant_video(video: Path, vf: str, out: Path) -> Path:
    """The video remade through the FFmpeg filter `vf`, made once and remade when the filter
    changes (x264 at crf 18, sound dropped). One encoder thread: with more, x264 gave different
    pictures on each run (three runs, three decoded MD5s), so two evaluation folders scored two
    different videos."""
    key = out.with_suffix(".key")
    if not (out.is_file() and key.is_file() and key.read_text() == vf):
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".part.mp4")
        ffmpeg("-i", video, "-vf", vf, "-an", "-c:v", "libx264", "-threads", "1", "-crf", "18",
               "-preset", "fast", partial)
        partial.rename(out)
        key.write_text(vf)
    return out


def named_truth(truth: Path, cast: set[str], out: Path) -> Path:
    """The truth with each stranger the cast names (`unknown:ron`, cast `ron`) as that cast member."""
    rows = truth.read_text().splitlines()
    out.parent.mkdir(parents=True, exist_ok=True)

    def named(name):
        return name.replace(STRANGER, "", 1) if name.lstrip("?").removeprefix(STRANGER) in cast else name

    renamed = [",".join([named(r.split(",")[0]), *r.split(",")[1:]]) for r in rows[1:]]
    out.write_text("\n".join([rows[0], *renamed]) + "\n")
    return out


def montage_sources(spec):
    for seg in spec["segments"]:
        for part in seg.get("tiles", [seg]):
            if "clip" in part:
                yield part["clip"]


def peer_ranges(work: Path, clip: Clip, video: Path, cast: Path) -> Path:
    """The peer's answer as a frame-range CSV (the truth's own form), run once per input."""
    out = work / "peer" / f"{clip.name}.csv"
    key = out.with_suffix(".key")
    want = sha256([video, PEER, *sorted(cast.glob("*.png"))])
    if out.is_file() and key.is_file() and key.read_text() == want:
        return out
    python = peer_venv.ensure(peer_venv.VENV)
    print(f"  running the peer on {clip.name} (slow: once per input)", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    answer = out.with_suffix(".json")
    run(peer_run(python, video, cast, answer))
    peer_csv(answer, out)
    key.write_text(want)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-peer", action="store_true", help="no face_recognition rows")
    parser.add_argument("--clip", action="append", help="only these clips (repeatable)")
    parser.add_argument("--mode", action="append", help="screentime arguments per mode (repeatable; "
                        "default: the default mode and --stride 1)")
    parser.add_argument("--binary", type=Path, default=BINARY)
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "eval", help="working folder")
    args = parser.parse_args()
    binary, work = args.binary.resolve(), args.out.resolve()
    modes = args.mode if args.mode is not None else MODES
    rows, scores = [], {}
    for clip in CLIPS:
        if args.clip and clip.name not in args.clip:
            continue
        prepared, cast = prepare(work, clip), make_cast(work, clip.cast)
        if prepared is None or cast is None:
            print(f"skipped {clip.name}: its footage is absent (development data only)", file=sys.stderr)
            continue
        video, truth = prepared
        print(f"{clip.name}", file=sys.stderr)
        results = []
        for mode in modes:
            cmd, out = screentime_run(binary, video, cast, work / "out" / clip.name, mode)
            run(cmd)
            results.append((f"screentime {mode or '(default)'}", out))
        if not args.no_peer:
            results.append(("face_recognition 1.3.0", peer_ranges(work, clip, video, cast)))
        for (tool, _), s in zip(results, score(binary, video, truth, [r for _, r in results])):
            scores[f"{clip.name} / {tool}"] = s
            rows.append((clip.name, tool, s))

    header = ["clip", "tool", "worst cast recall", "false s", "false %", "strangers, one label",
              "labels holding 2+", "recall per identity"]
    table = []
    for name, tool, s in rows:
        worst = worst_cast_recall(s)
        table.append([
            name, tool,
            "-" if worst is None else f"{100 * worst:.1f}%",
            f"{s['false_seconds']:.2f}",
            f"{100 * s['false_seconds'] / s['clip_seconds']:.2f}%",
            f"{s['strangers_one_label']}/{s['strangers']}" if s["strangers"] else "-",
            str(s["mixed_labels"]),
            " ".join(f"{i['name']} {100 * i['recall']:.0f}" for i in s["identities"]),
        ])
    print("\n".join(text_table(header, table, "l" * len(header))))
    work.mkdir(parents=True, exist_ok=True)
    (work / "table.md").write_text(markdown_table(header, table, "llrrrrrl") + "\n")
    (work / "scores.json").write_text(json.dumps(scores, indent=1) + "\n")
    print(f"(also in {work / 'table.md'}; every score in {work / 'scores.json'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
