"""Make a test or demo video from real photos or clips, with exactly known segments.

Usage: make_video.py SPEC.json OUT.mp4 [TRUTH.csv]

SPEC is JSON:

    {"width": 640, "height": 360, "fps": 25,
     "segments": [{"image": "photos/a.jpg", "seconds": 2.0, "motion": "zoom"},
                  {"image": "photos/b.jpg", "seconds": 1.5, "motion": "pan"},
                  {"blank": 1.0},
                  {"image": "photos/c.jpg", "seconds": 2.0, "motion": "still"}],
     "vfr": false, "rotate": 0, "mirror": false}

- An image segment shows the photo scaled to fit inside the frame (aspect kept, letterboxed on
  black) for exactly round(seconds * fps) frames, halves rounding up. Image paths are relative
  to the spec file.
- motion: "still" (default) none; "zoom" a slow zoom-in around the centre to 115% over the
  segment; "pan" a slow left-to-right drift of 8% of the width, zoomed to 110% so no extra
  border shows. Movement goes through ffmpeg's `perspective` filter, which samples bilinearly at
  sub-pixel positions; `zoompan` rounds to whole pixels and visibly jitters.
- "crop": [X, Y, W, H] on an image segment shows only that region of the photo (pixels of the
  photo as stored), e.g. a stretch of wall or suit as a background without faces.
- {"blank": SECONDS} is that many frames of black (a segment without faces).
  {"color": C, "seconds": SECONDS} is the same in colour C (an FFmpeg colour: a name or 0xRRGGBB).
- {"clip": "videos/a.mpg", "start_frame": S, "frames": N} shows frames S..S+N-1 of a video
  (frames counted from 0 in presentation order; its frame rate must be the spec's), scaled to
  fit like a photo. {"tiles": [CLIP, CLIP, ...]} shows clips side by side, each in an equal
  share of the width, for as many frames as the first one has (all must have as many).
- Cuts between segments are hard cuts.
- "overlays" on any segment put small pictures on it for part of it, so that faces come and go
  inside a shot, without a cut:
  [{"image": "photos/a.jpg", "crop": [X, Y, W, H], "from_frame": A, "to_frame": B,
    "x": X, "y": Y, "height": H, "who": "name"}, ...]
  The photo (or its crop, as for a segment) is scaled to H pixels high, aspect kept, and drawn
  with its top left corner at (x, y) of the output frame, over whatever the segment shows there
  (after any motion: the tile stays put); it appears at once on frame A of the segment (counted
  from 0) and is gone from frame B + 1 on. Later overlays are drawn over earlier ones. Keep tiles
  small (1/25 to 1/20 of the frame, a face cropped with some margin) and let them come and go on
  different frames: a picture changing by much at once is what a cut looks like (in a still
  shot, screentime takes a mean change of 3% of the grey range for one).
- "who" on a segment (a name, or a list of names; on each tile for tiles) says who is on screen
  in it, and on an overlay who is on screen while it shows. With TRUTH.csv given, these are
  written there as the truth for `screentime score`: `name,start_frame,end_frame`, one row per
  continuous stretch, in frames of the output video (after the drops, for "vfr").

Output: H.264 (libx264, yuv420p, preset veryfast, CRF 20). Without "vfr" it is constant frame
rate and frame i starts at i/fps; the frame count is the sum of the segments' frame counts.

With "vfr": true the same frames are made, then inside each segment every third frame
(offset 2, 5, 8, ...) is dropped, except a segment's first and last frames, and the file keeps
the survivors' timestamps (-fps_mode passthrough). The frame before a dropped one lasts 2/fps,
the others 1/fps, so every frame still starts on the i/fps grid, each segment still starts at
the same time and lasts exactly its frames/fps seconds, and the video ends at the same time.
The truth counts the frames kept: an overlay whose first or last frame is dropped starts on the
next frame kept, or ends on the one before, which lasts over the dropped one's time.

With "rotate": R (90, 180 or 270; default 0) players show the same video, but the file stores
it as a phone filming sideways does: each picture turned R degrees counterclockwise (width and
height swap for 90 and 270), with a display matrix telling players to turn it R degrees clockwise.
The matrix is set by remuxing with the `ffmpeg` tool's `rotate` metadata, which FFmpeg 5.1 takes
as counterclockwise degrees; the result is checked with ffprobe.

With "mirror": true (not with "rotate") players show the same video, but the file stores each
picture mirrored left to right, with a display matrix telling players to mirror it back (written
into the track header, whose matrix FFmpeg 5.1's `ffmpeg` cannot set).

The file is written to a temporary name next to OUT and renamed into place, so OUT is either
complete or absent. Prints one summary line.
"""

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

MOTIONS = ("still", "zoom", "pan")
# Filters that turn a picture counterclockwise by the key's degrees.
TURN_COUNTERCLOCKWISE = {0: None, 90: "transpose=cclock", 180: "hflip,vflip", 270: "transpose=clock"}


def segment_frames(seg, fps):
    if "tiles" in seg:
        counts = {segment_frames(tile, fps) for tile in seg["tiles"]}
        if len(counts) != 1:
            sys.exit(f"segment {seg}: tiles must all have the same number of frames")
        return counts.pop()
    if "clip" in seg:
        return int(seg["frames"])
    seconds = seg["blank"] if "blank" in seg else seg["seconds"]
    n = math.floor(seconds * fps + 0.5)  # halves round up, as in most languages (not round())
    if n < 1:
        sys.exit(f"segment {seg}: shorter than one frame at {fps} fps")
    return n


def kept_frames(n, vfr):
    """Frame offsets kept inside a segment of n frames."""
    if not vfr:
        return list(range(n))
    return [i for i in range(n) if not (i % 3 == 2 and i < n - 1)]


def motion_filter(motion, n):
    """A perspective filter for the movement, or None. `in` is the frame number in the segment."""
    t = f"(in/{max(n - 1, 1)})"
    if motion == "zoom":
        z, dx = f"(1+0.15*{t})", "0"
    elif motion == "pan":
        z, dx = "1.1", f"(W*0.08*({t}-0.5))"
    else:
        return None
    left, right = f"W/2+{dx}-W/2/{z}", f"W/2+{dx}+W/2/{z}"
    top, bottom = f"H/2-H/2/{z}", f"H/2+H/2/{z}"
    corners = dict(x0=left, y0=top, x1=right, y1=top, x2=left, y2=bottom, x3=right, y3=bottom)
    return "perspective=" + ":".join(f"{k}='{v}'" for k, v in corners.items()) + ":eval=frame"


def clip_chain(seg, index, w, h, fps, spec_dir):
    """Filters turning input `index` (a video) into the segment's frames, fitted to w x h."""
    clip = spec_dir / seg["clip"]
    if not clip.is_file():
        sys.exit(f"no such clip: {clip}")
    rate = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                           "stream=r_frame_rate", "-of", "csv=p=0", str(clip)],
                          capture_output=True, text=True).stdout.strip()
    num, _, den = rate.partition("/")
    if not num or abs(float(num) / float(den or 1) - fps) > 1e-6:
        sys.exit(f"{clip}: frame rate {rate}, the spec's is {fps}")
    start, n = int(seg["start_frame"]), int(seg["frames"])
    return [
        f"[{index}:v]trim=start_frame={start}:end_frame={start + n}",
        "setpts=PTS-STARTPTS",
        f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=lanczos",
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black",
        "format=yuv420p",
    ]


def names_of(part):
    """The names in a "who": one name or a list."""
    who = part.get("who", [])
    return {who} if isinstance(who, str) else set(who)


def truth_rows(spec, fps):
    """(name, first frame, last frame) runs of who is on screen, in frames of the output video."""
    vfr = bool(spec.get("vfr", False))
    shown = []  # who is on screen in each frame kept, in order
    for seg in spec["segments"]:
        names = set().union(*(names_of(part) for part in seg.get("tiles", [seg])))
        overlays = seg.get("overlays", [])
        for i in kept_frames(segment_frames(seg, fps), vfr):
            on = [names_of(o) for o in overlays if o["from_frame"] <= i <= o["to_frame"]]
            shown.append(names.union(*on))
    open_runs, rows = {}, []
    for frame, names in enumerate(shown + [set()]):  # the empty last closes every run
        for name in [name for name in open_runs if name not in names]:
            rows.append((name, open_runs.pop(name), frame - 1))
        for name in names:
            open_runs.setdefault(name, frame)
    return sorted(rows, key=lambda r: (r[1], r[0]))


def photo_chain(index, seg, scale):
    """Filters turning input `index` (a photo) into a picture: its "crop", then `scale`."""
    crop = []
    if "crop" in seg:
        x, y, cw, ch = (int(v) for v in seg["crop"])
        crop = [f"crop={cw}:{ch}:{x}:{y}"]
    return [f"[{index}:v]" + ",".join(crop + [scale])]


def overlay_chains(seg, k, inputs, n, w, h, fps, spec_dir):
    """Chains drawing segment k's overlays on [pK] (its finished frames, timed N/fps) into [sK]."""
    chains, overlays = [], seg["overlays"]
    for j, over in enumerate(overlays):
        image = spec_dir / over["image"]
        if not image.is_file():
            sys.exit(f"segment {k}: no such image: {image}")
        keys = ("from_frame", "to_frame", "x", "y", "height")
        first, last, x, y, th = (int(over[key]) for key in keys)
        if not 0 <= first <= last < n or x < 0 or y < 0 or th < 2 or y + th > h or x >= w:
            sys.exit(f"segment {k}, overlay {j}: frames outside 0..{n - 1} or tile outside the frame")
        inputs += ["-i", str(image)]
        tile = photo_chain(len(inputs) // 2 - 1, over, f"scale=-2:{th}:flags=lanczos")
        chains.append(",".join(tile + ["format=yuv420p", "setsar=1"]) + f"[o{k}_{j}]")
        # `t` is the segment frame's time (N/fps); half a frame either side is safe from rounding.
        shown = f"between(t,{(first - 0.5) / fps},{(last + 0.5) / fps})"
        base = f"p{k}" if j == 0 else f"b{k}_{j - 1}"
        drawn = f"s{k}" if j == len(overlays) - 1 else f"b{k}_{j}"
        chains.append(f"[{base}][o{k}_{j}]overlay=x={x}:y={y}:enable='{shown}'[{drawn}]")
    return chains


def build(spec, spec_dir):
    w, h, fps = int(spec["width"]), int(spec["height"]), spec["fps"]
    if w % 2 or h % 2 or w <= 0 or h <= 0:
        sys.exit("width and height must be positive and even (yuv420p)")
    vfr = bool(spec.get("vfr", False))
    inputs, chains, counts = [], [], []
    for k, seg in enumerate(spec["segments"]):
        n = segment_frames(seg, fps)
        counts.append(n)
        if "blank" in seg or "color" in seg:
            colour = "black" if "blank" in seg else seg["color"]
            chain = [f"color=c={colour}:s={w}x{h}:r={fps}", "format=yuv420p", f"trim=end_frame={n}"]
        elif "clip" in seg:
            inputs += ["-i", str(spec_dir / seg["clip"])]
            chain = clip_chain(seg, len(inputs) // 2 - 1, w, h, fps, spec_dir)
        elif "tiles" in seg:
            tiles = seg["tiles"]
            tile_w = w // len(tiles) // 2 * 2
            for t, tile in enumerate(tiles):
                inputs += ["-i", str(spec_dir / tile["clip"])]
                tile_chain = clip_chain(tile, len(inputs) // 2 - 1, tile_w, h, fps, spec_dir)
                chains.append(",".join(tile_chain) + f"[t{k}_{t}]")
            chain = ["".join(f"[t{k}_{t}]" for t in range(len(tiles))) + f"hstack=inputs={len(tiles)}",
                     f"pad={w}:{h}:(ow-iw)/2:0:black"]
        else:
            motion = seg.get("motion", "still")
            if motion not in MOTIONS:
                sys.exit(f"segment {k}: motion must be one of {', '.join(MOTIONS)}")
            image = spec_dir / seg["image"]
            if not image.is_file():
                sys.exit(f"segment {k}: no such image: {image}")
            inputs += ["-i", str(image)]
            chain = photo_chain(len(inputs) // 2 - 1, seg, f"scale={w}:{h}:force_original_aspect_ratio"
                                "=decrease:force_divisible_by=2:flags=lanczos") + [
                f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black",
                "format=yuv420p",
                f"loop=loop={n - 1}:size=1:start=0",
            ]
            if (move := motion_filter(motion, n)) is not None:
                chain.append(move)
        # In microseconds: in a photo's time base (image2's 1/25) N/fps rounds down to the same
        # tick for two frames at 30 fps, and `-r` dropped one (30+15+30 frames gave 74), and an
        # overlay's `enable` saw its frames up to 1/25 s early (one frame too many).
        chain += ["setsar=1", "settb=AVTB", f"setpts=N/({fps}*TB)"]
        if seg.get("overlays"):
            chains.append(",".join(chain) + f"[p{k}]")
            chains += overlay_chains(seg, k, inputs, n, w, h, fps, spec_dir)
        else:
            chains.append(",".join(chain) + f"[s{k}]")
    segments = len(spec["segments"])
    joined = "".join(f"[s{k}]" for k in range(segments))
    tail = f"{joined}concat=n={segments}:v=1:a=0"
    if vfr:
        # Drop offsets 2, 5, 8, ... of each segment, never its last frame (see the docstring).
        terms, start = [], 0
        for n in counts:
            terms.append(f"between(n,{start},{start + n - 2})*eq(mod(n-{start},3),2)")
            start += n
        tail += f",select='not({'+'.join(terms)})'"
    rotate = spec.get("rotate", 0)
    if rotate not in TURN_COUNTERCLOCKWISE:
        sys.exit("rotate must be 0, 90, 180 or 270")
    if (turn := TURN_COUNTERCLOCKWISE[rotate]) is not None:
        tail += "," + turn
    if spec.get("mirror", False):
        if rotate:
            sys.exit("mirror and rotate cannot be combined")
        tail += ",hflip"
    graph = ";".join(chains + [tail + "[out]"])
    timing = ["-fps_mode", "passthrough"] if vfr else ["-r", str(fps)]
    frames = sum(len(kept_frames(n, vfr)) for n in counts)
    return inputs, graph, timing, counts, frames, rotate


def set_rotation(src, dst, rotate):
    """Remux src to dst with a display matrix telling players to turn it `rotate` degrees
    clockwise, and check that it reads back so."""
    # FFmpeg 5.1's `ffmpeg` writes `rotate` metadata as a counterclockwise turn.
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-map", "0", "-c", "copy",
           "-metadata:s:v:0", f"rotate={-rotate}", dst]
    if subprocess.run(cmd).returncode != 0:
        sys.exit(f"ffmpeg failed setting the rotation of {dst}")
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream_side_data=rotation", "-of", "csv=p=0", dst],
                           capture_output=True, text=True).stdout.split()
    # ffprobe shows the counterclockwise angle.
    if len(probe) != 1 or round(-float(probe[0])) % 360 != rotate:
        sys.exit(f"this ffmpeg did not set a rotation of {rotate} (ffprobe: {probe})")


def mp4_box(data, path, start=0, end=None):
    """Where the payload of the box at `path` (types, outermost first) starts in MP4 `data`."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[start + 8:start + 16])[0], 16
        elif size == 0:
            size = end - start
        if size < header:
            break
        if kind == path[0]:
            if len(path) == 1:
                return start + header
            return mp4_box(data, path[1:], start + header, start + size)
        start += size
    sys.exit(f"no {b'/'.join(path).decode()} box")


def set_mirror(path, width):
    """Sets the track header's matrix to a mirror of x (then moved back into view), and checks
    that ffprobe reads it back so."""
    data = bytearray(Path(path).read_bytes())
    tkhd = mp4_box(data, [b"moov", b"trak", b"tkhd"])
    # version and flags; times, track id and duration (longer in version 1); layer and volume.
    matrix = tkhd + 4 + (32 if data[tkhd] == 1 else 20) + 16
    identity = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    if struct.unpack(">9i", data[matrix:matrix + 36]) != identity:
        sys.exit(f"{path}: the track header's matrix is not where expected")
    mirror = (-0x10000, 0, 0, 0, 0x10000, 0, width << 16, 0, 0x40000000)
    data[matrix:matrix + 36] = struct.pack(">9i", *mirror)
    Path(path).write_bytes(data)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream_side_data=displaymatrix", "-of", "json", path],
                           capture_output=True, text=True).stdout
    if "-65536" not in probe:
        sys.exit(f"{path}: ffprobe does not read the mirror back: {probe}")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.split("\n\n")[1])
    spec_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads(spec_path.read_text())
    inputs, graph, timing, counts, frames, rotate = build(spec, spec_path.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=out.suffix or ".mp4")
    os.close(fd)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", graph,
           "-map", "[out]", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
           "-pix_fmt", "yuv420p", *timing, tmp]
    stored = Path(tmp).with_name(Path(tmp).stem + ".stored" + Path(tmp).suffix)
    try:
        if subprocess.run(cmd).returncode != 0:
            sys.exit(f"ffmpeg failed making {out}")
        if rotate:
            os.replace(tmp, stored)
            set_rotation(stored, tmp, rotate)
        if spec.get("mirror", False):
            set_mirror(tmp, int(spec["width"]))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
        stored.unlink(missing_ok=True)
    fps = spec["fps"]
    if len(sys.argv) == 4:
        lines = ["name,start_frame,end_frame"] + [f"{n},{a},{b}" for n, a, b in truth_rows(spec, fps)]
        Path(sys.argv[3]).write_text("\n".join(lines) + "\n")
    print(f"{out}: {spec['width']}x{spec['height']} {fps} fps {'VFR' if spec.get('vfr') else 'CFR'}, "
          f"{f'rotated {rotate}, ' if rotate else ''}{'mirrored, ' if spec.get('mirror') else ''}"
          f"{frames} frames, {sum(counts) / fps:.3f} s, segments of {'+'.join(map(str, counts))} frames")


if __name__ == "__main__":
    main()
