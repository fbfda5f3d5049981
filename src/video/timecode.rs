//! The start timecode a video file carries (a QuickTime/MP4 `tmcd` track or a `timecode` tag),
//! for the EDL's events to sit at the video's own time. In: the video's path. Out: the
//! timecode as the file writes it (`01:00:00;00`), or none.

use std::path::Path;

use ffmpeg_next as ff;

/// The video stream's `timecode` tag, else any stream's (a `tmcd` track's), else the
/// container's; none for a stream read from a URL (not opened a second time) or a file that
/// has none.
pub fn start_timecode(path: &Path) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    let input = ff::format::input(path).ok()?;
    let tag = |metadata: ff::DictionaryRef| metadata.get("timecode").map(String::from);
    let video = input.streams().best(ff::media::Type::Video);
    video
        .and_then(|stream| tag(stream.metadata()))
        .or_else(|| input.streams().find_map(|stream| tag(stream.metadata())))
        .or_else(|| tag(input.metadata()))
}
