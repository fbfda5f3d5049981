"""Produce dlib's own face chips and descriptors as test references.

Usage: python dlib_reference.py --shape-predictor shape_predictor_5_face_landmarks.dat
           --embedder dlib_face_recognition_resnet_model_v1.dat OUT_DIR IMAGE...

For each face that dlib's HOG detector finds (upsampling once) in each image,
writes the aligned 150x150 chip from dlib.get_face_chip (padding 0.25) as
OUT_DIR/<image stem>_<i>.png, and dlib's descriptor of exactly that chip into
OUT_DIR/descriptors.json, mapping chip file name -> 128 floats. PNG is
lossless, so a consumer that loads the chip sees the pixels dlib embedded.
Needs dlib (e.g. the dlib-bin wheel) and numpy.
"""

import argparse
import json
import os
import sys

import dlib


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shape-predictor", required=True, help="shape_predictor_5_face_landmarks.dat"
    )
    parser.add_argument(
        "--embedder", required=True, help="dlib_face_recognition_resnet_model_v1.dat"
    )
    parser.add_argument("out_dir")
    parser.add_argument("images", nargs="+")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(args.shape_predictor)
    embedder = dlib.face_recognition_model_v1(args.embedder)
    os.makedirs(args.out_dir, exist_ok=True)

    descriptors = {}
    for path in args.images:
        image = dlib.load_rgb_image(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        faces = detector(image, 1)
        for i, face in enumerate(faces):
            chip = dlib.get_face_chip(image, predictor(image, face), size=150, padding=0.25)
            name = f"{stem}_{i}.png"
            dlib.save_image(chip, os.path.join(args.out_dir, name))
            # The chip overload embeds the given pixels as they are, with no re-alignment.
            descriptors[name] = list(embedder.compute_face_descriptor(chip))
        print(f"{path}: {len(faces)} face(s)")

    with open(os.path.join(args.out_dir, "descriptors.json"), "w") as f:
        json.dump(descriptors, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
