//! The digest as plain text, as an HTML e-mail (inline CSS, tables, no scripts; every piece
//! of document text escaped), and as JSON, in the digest's language.

use chrono::{DateTime, Duration, Utc};

use crate::alert::Alert;
use crate::analyze::aspect::Aspect;
use crate::analyze::lang::Lang;
use crate::digest::build::{BrandSection, Digest, ExpectationItem, Split};
use crate::digest::insight::AspectCount;
use crate::digest::summary::alert_phrase;
use crate::digest::words::{capitalised, words, Words};
use crate::doc::{ExpectationKind, Label};
use crate::html::html_escape as esc;

fn local(d: &Digest, t: DateTime<Utc>) -> chrono::DateTime<chrono_tz::Tz> {
    t.with_timezone(&d.timezone)
}

fn w(d: &Digest) -> &'static Words {
    words(d.language)
}

/// "Thursday 3 September 2026", or a range when the period is not one calendar day, in the
/// digest's language.
pub fn period_label(d: &Digest) -> String {
    let w = w(d);
    let from = local(d, d.from);
    let to = local(d, d.to - Duration::seconds(1));
    let midnight = from.format("%H:%M").to_string() == "00:00"
        && (d.to - d.from).num_hours().abs_diff(24) <= 1;
    if midnight {
        w.long_date(&from)
    } else {
        format!(
            "{} → {}",
            w.short_time(&from, false),
            w.short_time(&to, true)
        )
    }
}

/// Expectations listed per kind in the text digest (the HTML and JSON list them all).
const TEXT_ITEMS: usize = 8;
/// Voices listed per brand in the text and HTML digests.
const VOICES_SHOWN: usize = 5;

fn split_line(w: &Words, s: &Split) -> String {
    format!(
        "{} {} · {} {} · {} {}",
        w.number(s.negative),
        w.labels(Label::Negative),
        w.number(s.neutral),
        w.labels(Label::Neutral),
        w.number(s.positive),
        w.labels(Label::Positive)
    )
}

fn colon(w: &Words) -> &'static str {
    if w.lang == Lang::Fr {
        "\u{a0}:"
    } else {
        ":"
    }
}

/// An alert's heading: its kind and brand ("volume spike on Lumio"), in the language.
fn alert_title(w: &Words, a: &Alert) -> String {
    if w.lang != Lang::Fr {
        return a.summary();
    }
    let what = capitalised(&alert_phrase(w, a));
    if a.reminder {
        format!("Rappel — {what}")
    } else {
        what
    }
}

/// An alert's details, with its figures.
fn alert_detail(w: &Words, a: &Alert) -> String {
    use crate::alert::AlertKind;
    if w.lang != Lang::Fr {
        return a.message.clone();
    }
    let scale = a
        .scale
        .as_deref()
        .map(|s| s.replace('h', "\u{a0}h").replace('d', "\u{a0}j"))
        .unwrap_or_else(|| "24\u{a0}h".into());
    let figures = match (a.count, a.baseline) {
        (Some(c), Some(b)) => format!(
            "{} documents sur les dernières {scale}, pour {} attendus d'habitude",
            c.round(),
            format!("{b:.1}").replace('.', ",")
        ),
        _ => String::new(),
    };
    let score = format!("{:.1}", a.score).replace('.', ",");
    let what = match a.kind {
        AlertKind::Emerging => "terme en forte hausse",
        AlertKind::SentimentShift => "part des mentions négatives au-dessus de l'habitude",
        AlertKind::VolumeSpike => "volume de mentions au-dessus de l'habitude",
        AlertKind::VolumeDrop => "volume de mentions au-dessous de l'habitude",
    };
    if figures.is_empty() {
        format!(
            "{}{what} (score {score})",
            if a.reminder { "toujours : " } else { "" }
        )
    } else {
        format!(
            "{}{what} : {figures} (score {score})",
            if a.reminder { "toujours : " } else { "" }
        )
    }
}

/// An emerging signal's details in the digest's language, from the alert that announced it.
fn emerging_detail(d: &Digest, w: &Words, e: &crate::digest::build::Emerging) -> String {
    d.alerts
        .iter()
        .find(|a| a.terms == e.terms && a.kind == crate::alert::AlertKind::Emerging)
        .map(|a| alert_detail(w, a))
        .unwrap_or_else(|| e.message.clone())
}

/// "the network +2/−31".
fn aspect_tally(w: &Words, a: &AspectCount) -> String {
    format!("{} +{}/−{}", w.aspect(a.aspect), a.positive, a.negative)
}

fn aspects_of<'a>(b: &'a BrandSection, which: &[Aspect]) -> Vec<&'a AspectCount> {
    which
        .iter()
        .filter_map(|x| b.aspects.iter().find(|a| a.aspect == *x))
        .collect()
}

fn idea_heading(w: &Words, a: Option<Aspect>) -> String {
    match a {
        Some(a) => capitalised(w.aspect(a)),
        None => {
            if w.lang == Lang::Fr {
                "Autres".into()
            } else {
                "Other".into()
            }
        }
    }
}

/// "forum, 18 posts, seen 14 more times".
fn voice_line(w: &Words, v: &crate::digest::insight::Voice) -> String {
    let mut s = format!("{}, {}", v.source, w.count(v.mentions, w.posts));
    if let Some(f) = v.followers {
        s.push_str(&if w.lang == Lang::Fr {
            format!(", {} abonnés", w.number(f as usize))
        } else {
            format!(", {} followers", w.number(f as usize))
        });
    }
    let copies = v.reach - v.followers.unwrap_or(0) as usize;
    if copies > 0 {
        s.push_str(&if w.lang == Lang::Fr {
            format!(", repris {} fois ailleurs", w.number(copies))
        } else {
            format!(
                ", copied {} elsewhere",
                if copies == 1 {
                    "once".to_string()
                } else {
                    format!("{} times", w.number(copies))
                }
            )
        });
    }
    s
}

fn share_line(w: &Words, b: &BrandSection) -> String {
    if w.lang == Lang::Fr {
        format!(
            "{}{} {} (contre {} {})",
            w.share_of_voice,
            colon(w),
            w.percent(b.share_of_voice),
            w.percent(b.previous_share_of_voice),
            "avant"
        )
    } else {
        format!(
            "{}{} {} (was {})",
            w.share_of_voice,
            colon(w),
            w.percent(b.share_of_voice),
            w.percent(b.previous_share_of_voice)
        )
    }
}

/// Plain text.
pub fn text(d: &Digest) -> String {
    let w = w(d);
    let mut o = String::new();
    o.push_str(&format!(
        "{} — {} — {} ({})\n",
        w.title,
        d.watch,
        period_label(d),
        d.timezone.name()
    ));
    o.push_str(&format!(
        "{} {}\n",
        w.number(d.documents),
        w.plural(d.documents, w.in_period)
    ));
    if !d.summary.is_empty() {
        o.push_str(&format!("\n{}\n", w.summary.to_uppercase()));
        for s in &d.summary {
            o.push_str(&format!("  {s}\n"));
        }
    }
    if !d.alerts.is_empty() {
        o.push_str(&format!("\n{}\n", w.alerts.to_uppercase()));
        for a in &d.alerts {
            o.push_str(&format!(
                "  - {} {}\n    {}\n",
                w.stamp(&local(d, a.at)),
                alert_title(w, a),
                alert_detail(w, a)
            ));
        }
    }
    for b in &d.brands {
        o.push_str(&brand_text(d, b));
    }
    if !d.expectations.is_empty() {
        o.push_str(&format!("\n{}\n", w.unmet.to_uppercase()));
        for (kind, items, total) in expectation_groups(d) {
            o.push_str(&format!("{} ({total})\n", w.kind_title(kind)));
            for e in items.iter().take(TEXT_ITEMS) {
                let brand = e
                    .brand
                    .as_deref()
                    .map(|b| format!("[{b}] "))
                    .unwrap_or_default();
                let times = if e.count > 1 {
                    format!(" (×{})", e.count)
                } else {
                    String::new()
                };
                let by = e
                    .author
                    .as_deref()
                    .map(|a| format!(" — {a}"))
                    .unwrap_or_default();
                o.push_str(&format!(
                    "  - {brand}“{}”{by}{times}\n    {}\n",
                    e.quote, e.url
                ));
            }
            if items.len() > TEXT_ITEMS {
                o.push_str(&format!(
                    "  {}\n",
                    w.fill(w.and_more, items.len() - TEXT_ITEMS, "")
                ));
            }
        }
    }
    if !d.emerging.is_empty() {
        o.push_str(&format!("\n{}\n", w.emerging.to_uppercase()));
        for e in &d.emerging {
            let detail = emerging_detail(d, w, e);
            o.push_str(&format!(
                "  - {}\n    {}\n",
                e.terms
                    .iter()
                    .map(|t| format!("“{t}”"))
                    .collect::<Vec<_>>()
                    .join(", "),
                detail
            ));
            for u in e.evidence.iter().take(3) {
                o.push_str(&format!("    {u}\n"));
            }
        }
    }
    o
}

fn brand_text(d: &Digest, b: &BrandSection) -> String {
    let w = w(d);
    let hours = (d.to - d.from).num_hours();
    let mut o = format!(
        "\n{} — {} ({} {}, {})\n  {}{} {}\n  {}\n",
        b.name.to_uppercase(),
        w.count(b.mentions, w.mention),
        w.number(b.previous),
        w.before(hours),
        w.change(b.mentions, b.previous),
        w.tone,
        colon(w),
        split_line(w, &b.sentiment),
        share_line(w, b)
    );
    let spark: String = b
        .days
        .iter()
        .map(|day| {
            let peak = b.days.iter().map(|x| x.mentions).max().unwrap_or(0).max(1);
            const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
            if day.mentions == 0 {
                ' '
            } else {
                BARS[(day.mentions * 7 / peak).min(7)]
            }
        })
        .collect();
    o.push_str(&format!(
        "  {}{} {spark}\n",
        w.fill(w.last_days, b.days.len(), ""),
        colon(w)
    ));
    for (title, list) in [
        (w.strengths, aspects_of(b, &b.strengths)),
        (w.weaknesses, aspects_of(b, &b.weaknesses)),
    ] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|a| aspect_tally(w, a)).collect();
            o.push_str(&format!("  {title}{} {}\n", colon(w), items.join(" · ")));
            for a in list.iter().take(2) {
                if let Some(u) = a.examples.first() {
                    o.push_str(&format!("     {}{} {u}\n", w.aspect(a.aspect), colon(w)));
                }
            }
        }
    }
    if !b.ideas.is_empty() {
        o.push_str(&format!("  {}{}\n", w.ideas, colon(w)));
        for i in b.ideas.iter().take(4) {
            if let Some(first) = i.wishes.first() {
                o.push_str(&format!(
                    "     {} ({}): “{}” {}\n",
                    idea_heading(w, i.aspect),
                    i.count,
                    first.quote,
                    first.url
                ));
            }
        }
    }
    if !b.voices.is_empty() {
        o.push_str(&format!("  {}{}\n", w.voices, colon(w)));
        for v in b.voices.iter().take(VOICES_SHOWN) {
            o.push_str(&format!("     {} ({})\n", v.author, voice_line(w, v)));
        }
    }
    for (i, m) in b.top.iter().enumerate() {
        let by = m
            .author
            .as_deref()
            .map(|a| format!(", {} {a}", w.by))
            .unwrap_or_default();
        o.push_str(&format!(
            "  {}. {} — {}{by}, {}, {}\n",
            i + 1,
            m.title,
            m.source,
            w.stamp(&local(d, m.published)),
            w.label(m.sentiment)
        ));
        o.push_str(&format!("     {}\n     {}\n", m.snippet, m.url));
        if !m.also_at.is_empty() {
            o.push_str(&format!(
                "     {}{} {}\n",
                w.also_at,
                colon(w),
                m.also_at.join(", ")
            ));
        }
        if m.similar > 0 {
            o.push_str(&format!("     + {}\n", w.count(m.similar, w.similar)));
        }
    }
    o
}

/// A link only for web addresses; anything else is shown as text.
fn link(url: &str, label: &str, style: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        format!(
            "<a href=\"{}\" style=\"{style}\">{}</a>",
            esc(url),
            esc(label)
        )
    } else {
        esc(label)
    }
}

const FONT: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";

fn label_color(l: Label) -> &'static str {
    match l {
        Label::Negative => "#d64541",
        Label::Neutral => "#8a94a0",
        Label::Positive => "#3ca05a",
    }
}

fn split_bar(s: &Split) -> String {
    let total = (s.negative + s.neutral + s.positive).max(1) as f64;
    let mut cells = String::new();
    for (n, color) in [
        (s.negative, "#d64541"),
        (s.neutral, "#a0a8b2"),
        (s.positive, "#3ca05a"),
    ] {
        if n > 0 {
            let w = ((n as f64 / total) * 100.0).round().max(1.0);
            cells.push_str(&format!("<td width=\"{w}%\" style=\"background:{color};height:8px;font-size:0;line-height:0;\">&nbsp;</td>"));
        }
    }
    if cells.is_empty() {
        cells =
            "<td style=\"background:#e6e9ed;height:8px;font-size:0;line-height:0;\">&nbsp;</td>"
                .into();
    }
    format!("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse;margin:6px 0 4px 0;\"><tr>{cells}</tr></table>")
}

/// The section heading style of the HTML digest.
const H2: &str = "font-size:18px;font-weight:bold;";
const H3: &str = "font-size:14px;font-weight:bold;margin:12px 0 4px 0;color:#52606d;";
const SMALL: &str = "font-size:12px;color:#6b7785;";

/// The HTML e-mail. `image_src(brand index)` gives the `src` of each brand's chart (a `cid:`
/// for mail, a `data:` URI for a file), or `None` to leave charts out.
pub fn html(d: &Digest, image_src: &dyn Fn(usize) -> Option<String>) -> String {
    let w = w(d);
    let hours = (d.to - d.from).num_hours();
    let mut o = String::new();
    o.push_str(&format!("<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", w.code));
    o.push_str(&format!(
        "<title>{} — {}</title></head>\n",
        esc(w.title),
        esc(&d.watch)
    ));
    o.push_str(&format!(
        "<body style=\"margin:0;padding:0;background:#f3f5f7;{FONT}color:#1f2933;\">\n"
    ));
    o.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f3f5f7;\"><tr><td align=\"center\" style=\"padding:16px 8px;\">\n");
    o.push_str("<table role=\"presentation\" width=\"640\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:640px;width:100%;background:#ffffff;border-radius:6px;border:1px solid #e1e5ea;\">\n");
    // header
    o.push_str(&format!(
        "<tr><td style=\"padding:20px 24px 12px 24px;border-bottom:3px solid #1d4e89;\"><div style=\"font-size:12px;color:#6b7785;text-transform:uppercase;letter-spacing:1px;\">{} · {}</div><div style=\"font-size:22px;font-weight:bold;margin-top:4px;\">{}</div><div style=\"font-size:13px;color:#6b7785;margin-top:4px;\">{} · {} · {}</div></td></tr>\n",
        esc(w.title),
        esc(&d.watch),
        esc(&period_label(d)),
        esc(&w.count(d.documents, w.document)),
        esc(&w.count(d.alerts.len(), w.alert)),
        esc(d.timezone.name())
    ));
    // summary
    if !d.summary.is_empty() {
        o.push_str(&format!("<tr><td style=\"padding:16px 24px 0 24px;\"><div style=\"{H2}\">{}</div><ul style=\"margin:6px 0 0 0;padding-left:20px;font-size:15px;line-height:1.45;\">", esc(w.summary)));
        for s in &d.summary {
            o.push_str(&format!("<li style=\"margin:4px 0;\">{}</li>", esc(s)));
        }
        o.push_str("</ul></td></tr>\n");
    }
    // alerts
    if !d.alerts.is_empty() {
        o.push_str(&format!("<tr><td style=\"padding:16px 24px 0 24px;\"><div style=\"{H2}\">{}</div><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#fff4e5;border-left:4px solid #e8870e;margin-top:6px;\">", esc(w.alerts)));
        for a in &d.alerts {
            o.push_str(&format!(
                "<tr><td style=\"padding:8px 12px;font-size:14px;\"><strong>{}</strong> <span style=\"color:#8a6d3b;font-size:12px;\">{}</span><div style=\"font-size:13px;color:#52606d;margin-top:2px;\">{}</div>",
                esc(&alert_title(w, a)),
                esc(&w.stamp(&local(d, a.at))),
                esc(&alert_detail(w, a))
            ));
            let links: Vec<String> = a
                .evidence
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, u)| link(u, &format!("{} {}", w.source, i + 1), "color:#1d4e89;"))
                .collect();
            if !links.is_empty() {
                o.push_str(&format!(
                    "<div style=\"font-size:12px;margin-top:2px;\">{}</div>",
                    links.join(" · ")
                ));
            }
            o.push_str("</td></tr>");
        }
        o.push_str("</table></td></tr>\n");
    }
    // brands
    for (i, b) in d.brands.iter().enumerate() {
        o.push_str("<tr><td style=\"padding:20px 24px 4px 24px;\">");
        o.push_str(&format!(
            "<div style=\"{H2}\">{} <span style=\"font-size:14px;font-weight:normal;color:#52606d;\">{} · {} {} ({})</span></div>",
            esc(&b.name),
            esc(&w.count(b.mentions, w.mention)),
            esc(&w.number(b.previous)),
            esc(&w.before(hours)),
            esc(&w.change(b.mentions, b.previous))
        ));
        o.push_str(&split_bar(&b.sentiment));
        o.push_str(&format!(
            "<div style=\"{SMALL}\"><span style=\"color:#d64541;\">■</span> {} {} &nbsp; <span style=\"color:#a0a8b2;\">■</span> {} {} &nbsp; <span style=\"color:#3ca05a;\">■</span> {} {} &nbsp;·&nbsp; {}</div>",
            esc(&w.number(b.sentiment.negative)),
            w.labels(Label::Negative),
            esc(&w.number(b.sentiment.neutral)),
            w.labels(Label::Neutral),
            esc(&w.number(b.sentiment.positive)),
            w.labels(Label::Positive),
            esc(&share_line(w, b))
        ));
        if let Some(src) = image_src(i) {
            let days = w.fill(w.last_days, b.days.len(), "");
            o.push_str(&format!(
                "<div style=\"margin-top:10px;{SMALL}\">{}</div><img src=\"{}\" width=\"600\" alt=\"{}\" style=\"display:block;width:100%;max-width:600px;height:auto;border:0;margin-top:4px;\">",
                esc(&capitalised(&days)),
                esc(&src),
                esc(&w.fill(w.chart_alt, b.days.len(), &b.name)),
            ));
        }
        o.push_str(&aspects_html(w, b));
        o.push_str(&ideas_html(w, b));
        o.push_str(&voices_html(w, b));
        if !b.top.is_empty() {
            o.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"margin-top:8px;\">");
            for m in &b.top {
                let source = match &m.author {
                    Some(a) => format!("{} · {}", m.source, a),
                    None => m.source.clone(),
                };
                o.push_str(&format!(
                    "<tr><td style=\"padding:8px 0;border-top:1px solid #eef1f4;\"><div style=\"font-size:15px;\">{}</div><div style=\"font-size:12px;color:#6b7785;margin:2px 0;\">{} · {} · <span style=\"color:{};\">{}</span></div><div style=\"font-size:13px;color:#3e4c59;\">{}</div>",
                    link(&m.url, &m.title, "color:#1d4e89;text-decoration:none;font-weight:bold;"),
                    esc(&source),
                    esc(&w.stamp(&local(d, m.published))),
                    label_color(m.sentiment),
                    w.label(m.sentiment),
                    esc(&m.snippet)
                ));
                if !m.also_at.is_empty() {
                    let also: Vec<String> = m
                        .also_at
                        .iter()
                        .map(|u| link(u, &host_of(u), "color:#6b7785;"))
                        .collect();
                    o.push_str(&format!(
                        "<div style=\"{SMALL}margin-top:2px;\">{} {}</div>",
                        esc(w.also_at),
                        also.join(", ")
                    ));
                }
                if m.similar > 0 {
                    o.push_str(&format!(
                        "<div style=\"{SMALL}margin-top:2px;\">+ {}</div>",
                        esc(&w.count(m.similar, w.similar))
                    ));
                }
                o.push_str("</td></tr>");
            }
            o.push_str("</table>");
        }
        o.push_str("</td></tr>\n");
    }
    // expectations
    if !d.expectations.is_empty() {
        o.push_str(&format!(
            "<tr><td style=\"padding:20px 24px 4px 24px;\"><div style=\"{H2}\">{}</div>",
            esc(w.unmet)
        ));
        for (kind, items, total) in expectation_groups(d) {
            o.push_str(&format!(
                "<div style=\"{H3}\">{} ({total})</div>",
                esc(w.kind_title(kind))
            ));
            o.push_str(
                "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">",
            );
            for e in items {
                let brand = e.brand.as_deref().map(|b| format!("<span style=\"font-size:11px;background:#e6eef7;color:#1d4e89;padding:1px 5px;border-radius:3px;\">{}</span> ", esc(b))).unwrap_or_default();
                let times = if e.count > 1 {
                    format!(" <span style=\"{SMALL}\">×{}</span>", e.count)
                } else {
                    String::new()
                };
                o.push_str(&format!(
                    "<tr><td style=\"padding:5px 0;border-top:1px solid #eef1f4;font-size:13px;\">{brand}“{}”{times} <span style=\"font-size:12px;\">{}</span></td></tr>",
                    esc(&e.quote),
                    link(&e.url, w.read, "color:#1d4e89;")
                ));
            }
            o.push_str("</table>");
        }
        o.push_str("</td></tr>\n");
    }
    // emerging
    if !d.emerging.is_empty() {
        o.push_str(&format!(
            "<tr><td style=\"padding:20px 24px 4px 24px;\"><div style=\"{H2}\">{}</div>",
            esc(w.emerging)
        ));
        for e in &d.emerging {
            let terms: Vec<String> = e.terms.iter().map(|t| format!("“{}”", esc(t))).collect();
            let links: Vec<String> = e
                .evidence
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, u)| link(u, &format!("{} {}", w.source, i + 1), "color:#1d4e89;"))
                .collect();
            let detail = emerging_detail(d, w, e);
            o.push_str(&format!(
                "<div style=\"padding:6px 0;border-top:1px solid #eef1f4;font-size:13px;\"><strong>{}</strong><div style=\"color:#52606d;\">{}</div><div style=\"font-size:12px;\">{}</div></div>",
                terms.join(", "),
                esc(&detail),
                links.join(" · ")
            ));
        }
        o.push_str("</td></tr>\n");
    }
    o.push_str(&format!("<tr><td style=\"padding:16px 24px 20px 24px;font-size:11px;color:#9aa5b1;\">{}</td></tr>\n", esc(w.footer)));
    o.push_str("</table>\n</td></tr></table>\n</body></html>\n");
    o
}

/// A brand subsection: its heading and the opening of its table.
fn subsection(title: &str) -> String {
    format!("<div style=\"{H3}\">{}</div><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">", esc(title))
}

/// The style of a subsection's row.
const ROW: &str = "padding:4px 0;border-top:1px solid #eef1f4;font-size:13px;";

/// Strengths and weaknesses: each aspect with its counts and the posts that say so.
fn aspects_html(w: &Words, b: &BrandSection) -> String {
    let mut o = String::new();
    for (title, list, color) in [
        (w.strengths, aspects_of(b, &b.strengths), "#3ca05a"),
        (w.weaknesses, aspects_of(b, &b.weaknesses), "#d64541"),
    ] {
        if list.is_empty() {
            continue;
        }
        o.push_str(&subsection(title));
        for a in list {
            let examples: Vec<String> = a
                .examples
                .iter()
                .map(|u| link(u, &host_of(u), "color:#1d4e89;"))
                .collect();
            o.push_str(&format!(
                "<tr><td style=\"{ROW}\"><strong style=\"color:{color};\">{}</strong> <span style=\"{SMALL}\">+{} / −{}</span> <span style=\"font-size:12px;\">{}</span></td></tr>",
                esc(&capitalised(w.aspect(a.aspect))),
                a.positive,
                a.negative,
                examples.join(" · ")
            ));
        }
        o.push_str("</table>");
    }
    o
}

fn ideas_html(w: &Words, b: &BrandSection) -> String {
    if b.ideas.is_empty() {
        return String::new();
    }
    let mut o = subsection(w.ideas);
    for i in &b.ideas {
        let quotes: Vec<String> = i
            .wishes
            .iter()
            .take(3)
            .map(|x| {
                format!(
                    "“{}” {}",
                    esc(&x.quote),
                    link(&x.url, w.read, "color:#1d4e89;")
                )
            })
            .collect();
        o.push_str(&format!(
            "<tr><td style=\"{ROW}\"><strong>{}</strong> <span style=\"{SMALL}\">({})</span><div>{}</div></td></tr>",
            esc(&idea_heading(w, i.aspect)),
            i.count,
            quotes.join("<br>")
        ));
    }
    o.push_str("</table>");
    o
}

fn voices_html(w: &Words, b: &BrandSection) -> String {
    if b.voices.is_empty() {
        return String::new();
    }
    let mut o = subsection(w.voices);
    for v in b.voices.iter().take(VOICES_SHOWN) {
        let posts: Vec<String> = v
            .posts
            .iter()
            .take(3)
            .enumerate()
            .map(|(k, u)| link(u, &(k + 1).to_string(), "color:#1d4e89;"))
            .collect();
        o.push_str(&format!(
            "<tr><td style=\"{ROW}\"><strong>{}</strong> <span style=\"{SMALL}\">{}</span> <span style=\"font-size:12px;\">{}</span></td></tr>",
            esc(&v.author),
            esc(&voice_line(w, v)),
            posts.join(" · ")
        ));
    }
    o.push_str("</table>");
    o
}

fn host_of(u: &str) -> String {
    url::Url::parse(u)
        .ok()
        .and_then(|x| x.host_str().map(str::to_string))
        .unwrap_or_else(|| u.to_string())
}

/// Standard base64 (for `data:` URIs).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        o.push(T[(n >> 18) as usize & 63] as char);
        o.push(T[(n >> 12) as usize & 63] as char);
        o.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        o.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    o
}

/// The digest's expectations by kind (requests first: they wait for an answer), each kind
/// with its items and how many documents they stand for; kinds without items left out.
fn expectation_groups(d: &Digest) -> Vec<(ExpectationKind, Vec<&ExpectationItem>, usize)> {
    [
        ExpectationKind::Request,
        ExpectationKind::Complaint,
        ExpectationKind::Wish,
    ]
    .into_iter()
    .filter_map(|kind| {
        let items: Vec<&ExpectationItem> =
            d.expectations.iter().filter(|e| e.kind == kind).collect();
        let total = items.iter().map(|e| e.count).sum();
        (!items.is_empty()).then_some((kind, items, total))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn links_only_for_web_addresses() {
        assert_eq!(link("javascript:alert(1)", "x", ""), "x");
        assert!(link("https://e.org/?a=1&b=\"2\"", "<t>", "")
            .contains("href=\"https://e.org/?a=1&amp;b=&quot;2&quot;\""));
        assert!(link("https://e.org/", "<t>", "").contains("&lt;t&gt;"));
    }
}
