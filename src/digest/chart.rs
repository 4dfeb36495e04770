//! The digest's chart: fourteen days of mentions per brand, stacked by sentiment, as a PNG
//! that mail clients show inline. Drawn by plotters on a pixel buffer with a font carried in
//! the binary (DejaVu Sans, cut to Latin: `assets/fonts`), so that its labels (days, counts,
//! the legend) are real text in the digest's language on every machine.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::digest::build::BrandSection;
use crate::digest::words::Words;

const WIDTH: u32 = 600;
const ROW: u32 = 150;

type Rgb = [u8; 3];
pub const NEGATIVE: Rgb = [214, 69, 65];
pub const NEUTRAL: Rgb = [160, 168, 178];
pub const POSITIVE: Rgb = [60, 160, 90];
const INK: RGBColor = RGBColor(90, 98, 110);
const GRID: RGBColor = RGBColor(225, 229, 234);

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Latin.ttf");
/// The name the font is registered under.
const FAMILY: &str = "vigie-sans";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // the font is part of the binary: it always parses
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// One row per brand: daily bars, negative at the bottom, then neutral, then positive, with
/// the brand's name, a count axis, the days under the bars and a legend, in `w`'s language.
pub fn render(brands: &[BrandSection], w: &Words) -> Vec<u8> {
    register_font();
    let rows = brands.len().max(1) as u32;
    let (width, height) = (WIDTH, ROW * rows);
    let mut px = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut px, (width, height)).into_drawing_area();
        let areas = root.split_evenly((rows as usize, 1));
        for (b, area) in brands.iter().zip(areas) {
            // drawing errors leave a blank row: the digest goes out anyway
            let _ = draw_brand(&area, b, w);
        }
        let _ = root.present();
    }
    encode(&px, width, height)
}

fn draw_brand<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    b: &BrandSection,
    w: &Words,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = b.days.len().max(1);
    let peak = b.days.iter().map(|d| d.mentions).max().unwrap_or(0).max(1);
    let top = (peak as f64 * 1.15).ceil().max(2.0) as u32;
    let mut chart = ChartBuilder::on(area)
        .margin(6)
        .caption(&b.name, (FAMILY, 14).into_font().color(&INK))
        .x_label_area_size(20)
        .y_label_area_size(34)
        .build_cartesian_2d(0u32..n as u32, 0u32..top)?;
    let days = b.days.clone();
    let label_day = move |i: &u32| {
        days.get(*i as usize)
            .map(|d| {
                let m = w.months_short[chrono::Datelike::month0(&d.date) as usize];
                format!("{} {m}", chrono::Datelike::day(&d.date))
            })
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .axis_style(INK.mix(0.5))
        .x_labels(7)
        .y_labels(4)
        .x_label_formatter(&label_day)
        .y_label_formatter(&|v| w.number(*v as usize))
        .label_style((FAMILY, 11).into_font().color(&INK))
        .draw()?;
    let bars = b.days.iter().enumerate().flat_map(|(i, d)| {
        let neg = d.negative as u32;
        let neu = d.mentions.saturating_sub(d.negative + d.positive) as u32;
        let pos = d.positive as u32;
        let x = i as u32;
        let seg = |from: u32, to: u32, c: Rgb| {
            let mut r = Rectangle::new([(x, from), (x + 1, to)], rgb(c).filled());
            r.set_margin(0, 0, 4, 4);
            r
        };
        [
            seg(0, neg, NEGATIVE),
            seg(neg, neg + neu, NEUTRAL),
            seg(neg + neu, neg + neu + pos, POSITIVE),
        ]
    });
    chart.draw_series(bars)?;
    // the legend, top right
    let legend = [
        (w.labels(crate::doc::Label::Negative), NEGATIVE),
        (w.labels(crate::doc::Label::Neutral), NEUTRAL),
        (w.labels(crate::doc::Label::Positive), POSITIVE),
    ];
    let (aw, _) = area.dim_in_pixel();
    let style = (FAMILY, 11).into_font().color(&INK);
    let mut x = aw as i32 - 8;
    for (label, c) in legend.iter().rev() {
        let (tw, _) = area.estimate_text_size(label, &style)?;
        x -= tw as i32;
        area.draw_text(label, &style, (x, 8))?;
        x -= 14;
        area.draw(&Rectangle::new([(x, 9), (x + 10, 19)], rgb(*c).filled()))?;
        x -= 10;
    }
    Ok(())
}

fn encode(px: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        if let Ok(mut w) = enc.write_header() {
            let _ = w.write_image_data(px);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::build::{DayCount, Split};
    use crate::digest::words::{EN, FR};
    use chrono::NaiveDate;

    fn section() -> BrandSection {
        let days = (0..14)
            .map(|i| DayCount {
                date: NaiveDate::from_ymd_opt(2026, 9, 1 + i).unwrap(),
                mentions: i as usize * 3,
                negative: i as usize,
                positive: 1,
            })
            .collect();
        BrandSection {
            id: "a".into(),
            name: "A".into(),
            mentions: 3,
            previous: 1,
            sentiment: Split::default(),
            top: vec![],
            days,
            aspects: vec![],
            strengths: vec![],
            weaknesses: vec![],
            ideas: vec![],
            voices: vec![],
            share_of_voice: 1.0,
            previous_share_of_voice: 1.0,
            sampled: None,
        }
    }

    fn decode(png: Vec<u8>) -> (u32, u32, Vec<u8>) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info.width, info.height, buf)
    }

    #[test]
    fn renders_a_valid_png_with_bars_and_text() {
        let (w, h, buf) = decode(render(&[section(), section()], &EN));
        assert_eq!((w, h), (WIDTH, 2 * ROW));
        assert!(buf.chunks(3).any(|p| p == NEGATIVE), "negative bars drawn");
        assert!(buf.chunks(3).any(|p| p == POSITIVE), "positive bars drawn");
        // text is drawn with anti-aliasing: ink-coloured pixels and their blends
        let inked = buf
            .chunks(3)
            .filter(|p| p[0] < 140 && p[1] < 140 && p[2] < 150 && p[2] > p[0])
            .count();
        assert!(inked > 100, "labels drawn ({inked} pixels)");
    }

    #[test]
    fn the_labels_follow_the_language() {
        let en = render(&[section()], &EN);
        let fr = render(&[section()], &FR);
        assert_ne!(en, fr, "the French chart writes its own legend and months");
    }
}
