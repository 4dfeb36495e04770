//! The digest's chart: fourteen days of mentions per brand, stacked by sentiment, as a PNG
//! that mail clients show inline. Drawn directly on a pixel buffer (no font files, no system
//! libraries): bars, a baseline, and the day numbers and peak value in a small bitmap font.

use crate::digest::build::BrandSection;

const WIDTH: usize = 600;
const ROW: usize = 120;
const LEFT: usize = 34;
const RIGHT: usize = 8;
const TOP: usize = 10;
const BOTTOM: usize = 16;

type Rgb = [u8; 3];
const BG: Rgb = [255, 255, 255];
const AXIS: Rgb = [180, 186, 194];
const INK: Rgb = [90, 98, 110];
pub const NEGATIVE: Rgb = [214, 69, 65];
pub const NEUTRAL: Rgb = [160, 168, 178];
pub const POSITIVE: Rgb = [60, 160, 90];

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Canvas {
            w,
            h,
            px: BG.iter().copied().cycle().take(w * h * 3).collect(),
        }
    }

    fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, c: Rgb) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                let i = (yy * self.w + xx) * 3;
                self.px[i..i + 3].copy_from_slice(&c);
            }
        }
    }

    /// Draws `s` (digits, `-`, `/`, `.`) in a 3×5 font scaled by 2, left edge at `x`.
    fn text(&mut self, x: usize, y: usize, s: &str, c: Rgb) {
        let mut cx = x;
        for ch in s.chars() {
            if let Some(g) = glyph(ch) {
                for (row, bits) in g.iter().enumerate() {
                    for col in 0..3 {
                        if bits & (0b100 >> col) != 0 {
                            self.rect(cx + col * 2, y + row * 2, 2, 2, c);
                        }
                    }
                }
            }
            cx += 8;
        }
    }

    fn png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.w as u32, self.h as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            if let Ok(mut w) = enc.write_header() {
                let _ = w.write_image_data(&self.px);
            }
        }
        out
    }
}

/// 3×5 glyphs, one row per entry (bit 2 = left column).
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '-' => [0b000, 0b000, 0b111, 0b000, 0b000],
        '/' => [0b001, 0b001, 0b010, 0b100, 0b100],
        '.' => [0b000, 0b000, 0b000, 0b000, 0b010],
        _ => return None,
    })
}

/// One row per brand: daily bars, negative at the bottom, then neutral, then positive; the
/// peak on the left, day-of-month numbers under every other bar.
pub fn render(brands: &[BrandSection]) -> Vec<u8> {
    let rows = brands.len().max(1);
    let mut c = Canvas::new(WIDTH, ROW * rows);
    for (r, b) in brands.iter().enumerate() {
        let y0 = r * ROW + TOP;
        let plot_h = ROW - TOP - BOTTOM;
        let base = y0 + plot_h;
        let n = b.days.len().max(1);
        let slot = (WIDTH - LEFT - RIGHT) / n;
        let bar = (slot * 7 / 10).max(2);
        let peak = b.days.iter().map(|d| d.mentions).max().unwrap_or(0).max(1);
        c.rect(LEFT - 2, base, WIDTH - LEFT - RIGHT + 2, 1, AXIS);
        c.text(2, y0, &peak.to_string(), INK);
        c.text(2, base - 9, "0", INK);
        for (i, d) in b.days.iter().enumerate() {
            let x = LEFT + i * slot + (slot - bar) / 2;
            let scale = |v: usize| v * plot_h / peak;
            let neg = scale(d.negative);
            let pos = scale(d.positive);
            let total = scale(d.mentions);
            let neu = total.saturating_sub(neg + pos);
            c.rect(x, base - neg, bar, neg, NEGATIVE);
            c.rect(x, base - neg - neu, bar, neu, NEUTRAL);
            c.rect(x, base - neg - neu - pos, bar, pos, POSITIVE);
            if i % 2 == 1 || i + 1 == n {
                let label = d.date.format("%d").to_string();
                c.text(x + bar / 2 - 7, base + 4, &label, INK);
            }
        }
    }
    c.png()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::build::{DayCount, Split};
    use chrono::NaiveDate;

    #[test]
    fn renders_a_valid_png_with_bars() {
        let days = (0..14)
            .map(|i| DayCount {
                date: NaiveDate::from_ymd_opt(2026, 9, 1 + i).unwrap(),
                mentions: i as usize * 3,
                negative: i as usize,
                positive: 1,
            })
            .collect();
        let b = BrandSection {
            id: "a".into(),
            name: "A".into(),
            mentions: 3,
            previous: 1,
            sentiment: Split::default(),
            top: vec![],
            days,
        };
        let png = render(&[b.clone(), b]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (WIDTH as u32, 2 * ROW as u32));
        assert!(buf.chunks(3).any(|p| p == NEGATIVE), "negative bars drawn");
        assert!(buf.chunks(3).any(|p| p == POSITIVE), "positive bars drawn");
    }
}
