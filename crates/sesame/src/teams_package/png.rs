//! The Teams app's two icons, drawn here and encoded as PNG: the colour icon (192 × 192, a keyhole
//! on Sesame's accent colour) and the outline icon (32 × 32, the keyhole in white on transparent,
//! as Teams requires). PNG's image data is zlib; stored (uncompressed) deflate blocks keep the
//! encoder to a few lines, and the icons are small either way.

use super::zip::crc32;

/// Sesame's accent colour, also the manifest's `accentColor` (#3D5AFE).
const ACCENT: [u8; 4] = [0x3D, 0x5A, 0xFE, 0xFF];
const WHITE: [u8; 4] = [0xFF, 0xFF, 0xFF, 0xFF];
const CLEAR: [u8; 4] = [0, 0, 0, 0];

/// Whether the point (x, y), in a unit square, is inside the keyhole: a circle over a tapered slot.
fn in_keyhole(x: f64, y: f64) -> bool {
    let (cx, cy, r) = (0.5, 0.40, 0.16);
    let in_circle = (x - cx).powi(2) + (y - cy).powi(2) <= r * r;
    let (top, bottom) = (0.45, 0.78);
    let in_slot = (top..=bottom).contains(&y) && {
        let t = (y - top) / (bottom - top);
        let half_width = 0.06 + t * 0.06;
        (x - cx).abs() <= half_width
    };
    in_circle || in_slot
}

fn draw(size: u32, background: [u8; 4], foreground: [u8; 4]) -> Vec<[u8; 4]> {
    let mut pixels = Vec::with_capacity((size * size) as usize);
    for py in 0..size {
        for px in 0..size {
            let (x, y) = (
                (f64::from(px) + 0.5) / f64::from(size),
                (f64::from(py) + 0.5) / f64::from(size),
            );
            pixels.push(if in_keyhole(x, y) {
                foreground
            } else {
                background
            });
        }
    }
    pixels
}

/// The colour icon: 192 × 192.
pub(super) fn color_icon() -> Vec<u8> {
    encode(192, &draw(192, ACCENT, WHITE))
}

/// The outline icon: 32 × 32, white on transparent.
pub(super) fn outline_icon() -> Vec<u8> {
    encode(32, &draw(32, CLEAR, WHITE))
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in bytes {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// `data` as a zlib stream of stored deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (index, block) in blocks.iter().enumerate() {
        let last = index + 1 == blocks.len();
        out.push(u8::from(last));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// A square RGBA image as PNG.
fn encode(size: u32, pixels: &[[u8; 4]]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(pixels.len() * 4 + size as usize);
    for row in pixels.chunks(size as usize) {
        raw.push(0); // filter: none
        for pixel in row {
            raw.extend_from_slice(pixel);
        }
    }
    let mut header = Vec::new();
    header.extend_from_slice(&size.to_be_bytes());
    header.extend_from_slice(&size.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]); // 8 bits, RGBA, deflate, no filter, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimensions(png: &[u8]) -> (u32, u32) {
        let at = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
        (at(16), at(20))
    }

    #[test]
    fn the_icons_are_pngs_of_the_sizes_teams_requires() {
        let color = color_icon();
        assert_eq!(&color[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(dimensions(&color), (192, 192));
        assert_eq!(dimensions(&outline_icon()), (32, 32));
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn the_outline_icon_is_white_on_transparent_only() {
        let pixels = draw(32, CLEAR, WHITE);
        assert!(pixels.iter().all(|p| *p == CLEAR || *p == WHITE));
        assert!(pixels.contains(&WHITE) && pixels.contains(&CLEAR));
    }

    /// The icons in `teams/` are these ones; set SESAME_WRITE_TEAMS_ICONS=1 to write them again.
    #[test]
    fn the_committed_icons_are_the_drawn_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../teams");
        for (name, png) in [("color.png", color_icon()), ("outline.png", outline_icon())] {
            let path = dir.join(name);
            if std::env::var_os("SESAME_WRITE_TEAMS_ICONS").is_some() {
                std::fs::write(&path, &png).unwrap();
            }
            assert_eq!(std::fs::read(&path).unwrap(), png, "{name} is out of date");
        }
    }
}
