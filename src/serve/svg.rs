//! Charts drawn on the server as SVG: a brand's mentions per day, stacked by tone. Colours come
//! from the style sheet's classes (no inline style: the pages' policy forbids it).

use maud::{html, Markup};

use crate::digest::build::DayCount;
use crate::digest::words::Words;

const W: f64 = 560.0;
const H: f64 = 150.0;
const LEFT: f64 = 34.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 8.0;

/// Mentions per day, negative at the bottom, then neutral, then positive; `title` read by
/// screen readers and shown on hover.
pub fn days_chart(days: &[DayCount], w: &Words, title: &str) -> Markup {
    let max = days.iter().map(|d| d.mentions).max().unwrap_or(0).max(1);
    // a round top for the axis
    let step = nice_step(max);
    let top = max.div_ceil(step) * step;
    let plot_h = H - BOTTOM - TOP;
    let n = days.len().max(1) as f64;
    let slot = (W - LEFT - 4.0) / n;
    let bar = (slot * 0.72).max(1.0);
    let y = |v: usize| TOP + plot_h - plot_h * v as f64 / top as f64;
    let ticks: Vec<usize> = (0..=top).step_by(step).collect();
    html! {
        svg class="chart" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for t in &ticks {
                line class="grid" x1=(LEFT) x2=(W - 2.0) y1=(y(*t)) y2=(y(*t)) {}
                text class="axis" x=(LEFT - 4.0) y=(y(*t) + 3.5) text-anchor="end" { (w.number(*t)) }
            }
            @for (i, d) in days.iter().enumerate() {
                @let x = LEFT + 2.0 + i as f64 * slot + (slot - bar) / 2.0;
                @let neutral = d.mentions.saturating_sub(d.negative + d.positive);
                @let h_neg = plot_h * d.negative as f64 / top as f64;
                @let h_neu = plot_h * neutral as f64 / top as f64;
                @let h_pos = plot_h * d.positive as f64 / top as f64;
                @let base = TOP + plot_h;
                g {
                    title { (d.date.format("%d/%m").to_string()) " : " (w.number(d.mentions)) }
                    rect class="neg" x=(x) width=(bar) y=(base - h_neg) height=(h_neg) {}
                    rect class="neu" x=(x) width=(bar) y=(base - h_neg - h_neu) height=(h_neu) {}
                    rect class="pos" x=(x) width=(bar) y=(base - h_neg - h_neu - h_pos) height=(h_pos) {}
                }
                @if i == 0 || i + 1 == days.len() || (days.len() > 8 && i == days.len() / 2) {
                    text class="axis" x=(x + bar / 2.0) y=(H - 5.0) text-anchor="middle" {
                        (d.date.format("%d/%m").to_string())
                    }
                }
            }
        }
    }
}

fn nice_step(max: usize) -> usize {
    let raw = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let s = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    s.max(1.0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_of_days() {
        let d = |day: u32, m, n, p| DayCount {
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            mentions: m,
            negative: n,
            positive: p,
        };
        let s = days_chart(
            &[d(1, 3, 1, 1), d(2, 17, 10, 2)],
            crate::digest::words::words(crate::analyze::lang::Lang::En),
            "Mentions <of> X",
        )
        .into_string();
        assert!(s.starts_with("<svg"));
        assert!(s.contains("Mentions &lt;of&gt; X"));
        assert_eq!(s.matches("class=\"neg\"").count(), 2);
        assert!(!s.contains("style="));
        assert_eq!(nice_step(17), 5);
        assert_eq!(nice_step(3), 1);
    }
}
