//! What a simulated participant "says" into a recording. For WAV it is a real RIFF/WAVE
//! file (8 kHz, 16-bit mono PCM) holding a quiet 440 Hz tone, so a player or a test can
//! decode it; AMR gets a valid AMR-NB file of 12.2 kbit/s frames; any other type gets
//! bytes of a plausible length for compressed speech (32 kbit/s), labelled with that type.
//! Every recording stays under [`MAX_RECORDING_BYTES`]: longer ones are cut short.

use std::{f64::consts::TAU, time::Duration};

/// Largest recording netsim produces, in bytes; the duration is capped to fit.
pub(crate) const MAX_RECORDING_BYTES: usize = 600_000;

const WAV_SAMPLE_RATE: u32 = 8_000;
const WAV_HEADER_LEN: usize = 44;
/// 8 samples of 2 bytes per millisecond.
const WAV_BYTES_PER_MS: usize = 16;
const TONE_HZ: f64 = 440.0;
/// Peak sample value: about -30 dBFS, a quiet tone.
const TONE_AMPLITUDE: f64 = 1_000.0;

const AMR_MAGIC: &[u8] = b"#!AMR\n";
/// One 20 ms AMR-NB frame at 12.2 kbit/s: a header byte (mode 7, quality bit set) and
/// 31 bytes of speech bits.
const AMR_FRAME_LEN: usize = 32;
const AMR_FRAME_HEADER: u8 = 0x3C;
const AMR_FRAME_MS: u64 = 20;

/// 32 kbit/s, typical of compressed speech.
const OTHER_BYTES_PER_MS: usize = 4;

/// How the bytes of a content type are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Wav,
    Amr,
    Other,
}

impl Format {
    fn of(content_type: &str) -> Format {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => Format::Wav,
            "audio/amr" => Format::Amr,
            _ => Format::Other,
        }
    }

    /// The longest duration, in milliseconds, whose bytes stay under the limit.
    fn max_ms(self) -> u64 {
        let room = MAX_RECORDING_BYTES - 1;
        match self {
            Format::Wav => ((room - WAV_HEADER_LEN) / WAV_BYTES_PER_MS) as u64,
            Format::Amr => ((room - AMR_MAGIC.len()) / AMR_FRAME_LEN) as u64 * AMR_FRAME_MS,
            Format::Other => (room / OTHER_BYTES_PER_MS) as u64,
        }
    }
}

/// `requested`, shortened (to whole milliseconds) so a recording of `content_type` fits.
pub(crate) fn capped(content_type: &str, requested: Duration) -> Duration {
    let max = Format::of(content_type).max_ms();
    Duration::from_millis((requested.as_millis() as u64).min(max))
}

/// The bytes of a recording of `content_type` lasting `duration` (at most the cap).
pub(crate) fn render(content_type: &str, duration: Duration) -> Vec<u8> {
    let format = Format::of(content_type);
    let ms = (duration.as_millis() as u64).min(format.max_ms()) as usize;
    match format {
        Format::Wav => wav(ms),
        Format::Amr => amr(ms),
        Format::Other => vec![0; ms * OTHER_BYTES_PER_MS],
    }
}

fn wav(ms: usize) -> Vec<u8> {
    let samples = ms * (WAV_SAMPLE_RATE as usize / 1_000);
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(WAV_HEADER_LEN + data_len);
    // Both lengths fit: the whole file is under MAX_RECORDING_BYTES.
    let data_len32 = data_len as u32;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&WAV_SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(WAV_SAMPLE_RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len32.to_le_bytes());
    let step = TAU * TONE_HZ / f64::from(WAV_SAMPLE_RATE);
    for n in 0..samples {
        let sample = (TONE_AMPLITUDE * (step * n as f64).sin()).round() as i16;
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

fn amr(ms: usize) -> Vec<u8> {
    let frames = ms.div_ceil(AMR_FRAME_MS as usize);
    let mut out = Vec::with_capacity(AMR_MAGIC.len() + frames * AMR_FRAME_LEN);
    out.extend_from_slice(AMR_MAGIC);
    for _ in 0..frames {
        out.push(AMR_FRAME_HEADER);
        out.extend_from_slice(&[0; AMR_FRAME_LEN - 1]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
    }

    #[test]
    fn wav_is_a_valid_riff_wave_file_of_the_right_length() {
        let bytes = render("audio/wav", Duration::from_millis(250));
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(u32_at(&bytes, 4) as usize, bytes.len() - 8);
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u32_at(&bytes, 16), 16);
        assert_eq!(u16_at(&bytes, 20), 1, "PCM");
        assert_eq!(u16_at(&bytes, 22), 1, "mono");
        assert_eq!(u32_at(&bytes, 24), 8_000);
        assert_eq!(u32_at(&bytes, 28), 16_000);
        assert_eq!(u16_at(&bytes, 32), 2);
        assert_eq!(u16_at(&bytes, 34), 16);
        assert_eq!(&bytes[36..40], b"data");
        assert_eq!(u32_at(&bytes, 40), 250 * 16);
        assert_eq!(bytes.len(), 44 + 250 * 16);
        let samples: Vec<i16> = bytes[44..]
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((900..=1_000).contains(&peak), "a quiet tone, peak {peak}");
    }

    #[test]
    fn content_types_are_recognised_whatever_their_spelling() {
        assert_eq!(Format::of("Audio/X-WAV; codec=1"), Format::Wav);
        assert_eq!(Format::of("audio/amr"), Format::Amr);
        assert_eq!(Format::of("audio/mpeg"), Format::Other);
    }

    #[test]
    fn other_types_get_plausible_lengths() {
        let amr = render("audio/amr", Duration::from_millis(1_010));
        assert!(amr.starts_with(AMR_MAGIC));
        assert_eq!(amr.len(), 6 + 51 * 32, "51 frames of 20 ms");
        assert_eq!(render("audio/mpeg", Duration::from_secs(2)).len(), 8_000);
    }

    #[test]
    fn long_recordings_are_capped_under_the_limit() {
        for content_type in ["audio/wav", "audio/amr", "audio/ogg"] {
            let long = Duration::from_secs(3_600);
            let cap = capped(content_type, long);
            assert!(cap < long, "{content_type}");
            let bytes = render(content_type, long);
            assert!(bytes.len() < MAX_RECORDING_BYTES, "{content_type}");
            assert!(bytes.len() > MAX_RECORDING_BYTES - 100, "{content_type}");
            assert_eq!(render(content_type, cap).len(), bytes.len());
        }
        assert_eq!(
            capped("audio/wav", Duration::from_millis(1_500)),
            Duration::from_millis(1_500)
        );
    }
}
