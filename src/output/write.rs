//! Result files in the general formats, each written whole or not at all
//! ([`crate::files::atomic`]): JSON lines, CSV tables and JPEG pictures.

use std::io::{self, Write};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};

use crate::error::Result;
use crate::files::atomic::write_atomically;

/// Writes one JSON object per line to `path`, atomically.
pub fn write_json_lines<T: serde::Serialize>(path: &Path, items: &[T]) -> Result<()> {
    write_atomically(path, |out| {
        for item in items {
            json_line(out, item)?;
        }
        Ok(())
    })
}

/// Writes `value` as one line of JSON: a line of a JSON-lines file, or of an answer
/// ([`crate::output::answer`]).
pub fn json_line(
    out: &mut (impl Write + ?Sized),
    value: &impl serde::Serialize,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// Writes a CSV file with this header and these records, atomically.
pub fn write_table(path: &Path, header: &[&str], records: &[Vec<String>]) -> Result<()> {
    write_atomically(path, |out| {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(header)?;
        for record in records {
            csv.write_record(record)?;
        }
        csv.flush()
    })
}

/// Writes `image` to `path` as a JPEG of quality 90, atomically: small files for pictures a
/// user looks at (faces, contact sheets) without visible loss.
pub fn write_jpeg(path: &Path, image: &RgbImage) -> Result<()> {
    write_atomically(path, |out| {
        JpegEncoder::new_with_quality(out, 90)
            .write_image(
                image.as_raw(),
                image.width(),
                image.height(),
                image::ExtendedColorType::Rgb8,
            )
            .map_err(io::Error::other)
    })
}
