//! The digest as plain text, as an HTML e-mail (inline CSS, tables, no scripts; every piece
//! of document text escaped), and as JSON.

use chrono::{DateTime, Duration, Utc};

use crate::digest::build::{BrandSection, Digest, ExpectationItem, Split};
use crate::doc::{ExpectationKind, Label};
use crate::html::html_escape as esc;

fn local(d: &Digest, t: DateTime<Utc>) -> chrono::DateTime<chrono_tz::Tz> {
    t.with_timezone(&d.timezone)
}

/// "Thursday 3 September 2026", or a range when the period is not one calendar day.
pub fn period_label(d: &Digest) -> String {
    let from = local(d, d.from);
    let to = local(d, d.to - Duration::seconds(1));
    let midnight = from.format("%H:%M").to_string() == "00:00"
        && (d.to - d.from).num_hours().abs_diff(24) <= 1;
    if midnight {
        from.format("%A %-d %B %Y").to_string()
    } else {
        format!(
            "{} → {}",
            from.format("%a %-d %b %H:%M"),
            to.format("%a %-d %b %Y %H:%M")
        )
    }
}

fn change(now: usize, before: usize) -> String {
    if before == 0 {
        if now == 0 {
            "no change".into()
        } else {
            "new".into()
        }
    } else {
        let pct = (now as f64 - before as f64) * 100.0 / before as f64;
        format!("{}{:.0}%", if pct >= 0.0 { "+" } else { "" }, pct)
    }
}

/// Expectations listed per kind in the text digest (the HTML and JSON list them all).
const TEXT_ITEMS: usize = 8;

fn kind_title(k: ExpectationKind) -> &'static str {
    match k {
        ExpectationKind::Request => "Requests still waiting",
        ExpectationKind::Complaint => "Complaints",
        ExpectationKind::Wish => "Wishes and suggestions",
    }
}

fn split_line(s: &Split) -> String {
    format!(
        "{} negative · {} neutral · {} positive",
        s.negative, s.neutral, s.positive
    )
}

/// Plain text.
pub fn text(d: &Digest) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "vigie digest — {} — {} ({})\n",
        d.watch,
        period_label(d),
        d.timezone.name()
    ));
    o.push_str(&format!(
        "{} document{} in the period\n",
        d.documents,
        if d.documents == 1 { "" } else { "s" }
    ));
    if !d.alerts.is_empty() {
        o.push_str("\nALERTS\n");
        for a in &d.alerts {
            o.push_str(&format!(
                "  - {} {}\n    {}\n",
                local(d, a.at).format("%d/%m %H:%M"),
                a.summary(),
                a.message
            ));
        }
    }
    for b in &d.brands {
        o.push_str(&brand_text(d, b));
    }
    if !d.expectations.is_empty() {
        o.push_str("\nUNMET EXPECTATIONS\n");
        for (kind, items, total) in expectation_groups(d) {
            o.push_str(&format!("{} ({total})\n", kind_title(kind)));
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
                o.push_str(&format!("  … and {} more\n", items.len() - TEXT_ITEMS));
            }
        }
    }
    if !d.emerging.is_empty() {
        o.push_str("\nEMERGING\n");
        for e in &d.emerging {
            o.push_str(&format!(
                "  - {}\n    {}\n",
                e.terms
                    .iter()
                    .map(|t| format!("“{t}”"))
                    .collect::<Vec<_>>()
                    .join(", "),
                e.message
            ));
            for u in e.evidence.iter().take(3) {
                o.push_str(&format!("    {u}\n"));
            }
        }
    }
    o
}

fn brand_text(d: &Digest, b: &BrandSection) -> String {
    let mut o = format!(
        "\n{} — {} mention{} ({} the period before, {})\n  sentiment: {}\n",
        b.name.to_uppercase(),
        b.mentions,
        if b.mentions == 1 { "" } else { "s" },
        b.previous,
        change(b.mentions, b.previous),
        split_line(&b.sentiment)
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
    o.push_str(&format!("  last {} days: {spark}\n", b.days.len()));
    for (i, m) in b.top.iter().enumerate() {
        let by = m
            .author
            .as_deref()
            .map(|a| format!(", by {a}"))
            .unwrap_or_default();
        o.push_str(&format!(
            "  {}. {} — {}{by}, {}, {}\n",
            i + 1,
            m.title,
            m.source,
            local(d, m.published).format("%d/%m %H:%M"),
            m.sentiment.as_str()
        ));
        o.push_str(&format!("     {}\n     {}\n", m.snippet, m.url));
        if !m.also_at.is_empty() {
            o.push_str(&format!("     also at: {}\n", m.also_at.join(", ")));
        }
        if m.similar > 0 {
            o.push_str(&format!(
                "     and {} similar mention{}\n",
                m.similar,
                if m.similar == 1 { "" } else { "s" }
            ));
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

/// The HTML e-mail. `image_src(brand index)` gives the `src` of each brand's chart (a `cid:`
/// for mail, a `data:` URI for a file), or `None` to leave charts out.
pub fn html(d: &Digest, image_src: &dyn Fn(usize) -> Option<String>) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    o.push_str(&format!(
        "<title>vigie digest — {}</title></head>\n",
        esc(&d.watch)
    ));
    o.push_str(&format!(
        "<body style=\"margin:0;padding:0;background:#f3f5f7;{FONT}color:#1f2933;\">\n"
    ));
    o.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f3f5f7;\"><tr><td align=\"center\" style=\"padding:16px 8px;\">\n");
    o.push_str("<table role=\"presentation\" width=\"640\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:640px;width:100%;background:#ffffff;border-radius:6px;border:1px solid #e1e5ea;\">\n");
    // header
    o.push_str(&format!(
        "<tr><td style=\"padding:20px 24px 12px 24px;border-bottom:3px solid #1d4e89;\"><div style=\"font-size:12px;color:#6b7785;text-transform:uppercase;letter-spacing:1px;\">vigie digest · {}</div><div style=\"font-size:22px;font-weight:bold;margin-top:4px;\">{}</div><div style=\"font-size:13px;color:#6b7785;margin-top:4px;\">{} document{} · {} alert{} · {}</div></td></tr>\n",
        esc(&d.watch),
        esc(&period_label(d)),
        d.documents,
        if d.documents == 1 { "" } else { "s" },
        d.alerts.len(),
        if d.alerts.len() == 1 { "" } else { "s" },
        esc(d.timezone.name())
    ));
    // alerts
    if !d.alerts.is_empty() {
        o.push_str("<tr><td style=\"padding:16px 24px 0 24px;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#fff4e5;border-left:4px solid #e8870e;\">");
        for a in &d.alerts {
            o.push_str(&format!(
                "<tr><td style=\"padding:8px 12px;font-size:14px;\"><strong>{}</strong> <span style=\"color:#8a6d3b;font-size:12px;\">{}</span><div style=\"font-size:13px;color:#52606d;margin-top:2px;\">{}</div>",
                esc(&a.summary()),
                esc(&local(d, a.at).format("%d/%m %H:%M").to_string()),
                esc(&a.message)
            ));
            let links: Vec<String> = a
                .evidence
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, u)| link(u, &format!("source {}", i + 1), "color:#1d4e89;"))
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
            "<div style=\"font-size:18px;font-weight:bold;\">{} <span style=\"font-size:14px;font-weight:normal;color:#52606d;\">{} mention{} · {} the period before ({})</span></div>",
            esc(&b.name),
            b.mentions,
            if b.mentions == 1 { "" } else { "s" },
            b.previous,
            esc(&change(b.mentions, b.previous))
        ));
        o.push_str(&split_bar(&b.sentiment));
        o.push_str(&format!(
            "<div style=\"font-size:12px;color:#6b7785;\"><span style=\"color:#d64541;\">■</span> {} negative &nbsp; <span style=\"color:#a0a8b2;\">■</span> {} neutral &nbsp; <span style=\"color:#3ca05a;\">■</span> {} positive</div>",
            b.sentiment.negative, b.sentiment.neutral, b.sentiment.positive
        ));
        if let Some(src) = image_src(i) {
            o.push_str(&format!(
                "<div style=\"margin-top:10px;font-size:12px;color:#6b7785;\">Last {} days</div><img src=\"{}\" width=\"600\" alt=\"Mentions of {} per day over the last {} days, by sentiment\" style=\"display:block;width:100%;max-width:600px;height:auto;border:0;margin-top:4px;\">",
                b.days.len(),
                esc(&src),
                esc(&b.name),
                b.days.len()
            ));
        }
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
                    esc(&local(d, m.published).format("%d/%m %H:%M").to_string()),
                    label_color(m.sentiment),
                    m.sentiment.as_str(),
                    esc(&m.snippet)
                ));
                if !m.also_at.is_empty() {
                    let also: Vec<String> = m
                        .also_at
                        .iter()
                        .map(|u| link(u, &host_of(u), "color:#6b7785;"))
                        .collect();
                    o.push_str(&format!("<div style=\"font-size:12px;color:#6b7785;margin-top:2px;\">also at {}</div>", also.join(", ")));
                }
                if m.similar > 0 {
                    o.push_str(&format!("<div style=\"font-size:12px;color:#6b7785;margin-top:2px;\">and {} similar mention{}</div>", m.similar, if m.similar == 1 { "" } else { "s" }));
                }
                o.push_str("</td></tr>");
            }
            o.push_str("</table>");
        }
        o.push_str("</td></tr>\n");
    }
    // expectations
    if !d.expectations.is_empty() {
        o.push_str("<tr><td style=\"padding:20px 24px 4px 24px;\"><div style=\"font-size:18px;font-weight:bold;\">Unmet expectations</div>");
        for (kind, items, total) in expectation_groups(d) {
            o.push_str(&format!("<div style=\"font-size:14px;font-weight:bold;margin:12px 0 4px 0;color:#52606d;\">{} ({total})</div>", kind_title(kind)));
            o.push_str(
                "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">",
            );
            for e in items {
                let brand = e.brand.as_deref().map(|b| format!("<span style=\"font-size:11px;background:#e6eef7;color:#1d4e89;padding:1px 5px;border-radius:3px;\">{}</span> ", esc(b))).unwrap_or_default();
                let times = if e.count > 1 {
                    format!(
                        " <span style=\"font-size:12px;color:#6b7785;\">×{}</span>",
                        e.count
                    )
                } else {
                    String::new()
                };
                o.push_str(&format!(
                    "<tr><td style=\"padding:5px 0;border-top:1px solid #eef1f4;font-size:13px;\">{brand}“{}”{times} <span style=\"font-size:12px;\">{}</span></td></tr>",
                    esc(&e.quote),
                    link(&e.url, "read", "color:#1d4e89;")
                ));
            }
            o.push_str("</table>");
        }
        o.push_str("</td></tr>\n");
    }
    // emerging
    if !d.emerging.is_empty() {
        o.push_str("<tr><td style=\"padding:20px 24px 4px 24px;\"><div style=\"font-size:18px;font-weight:bold;\">Emerging</div>");
        for e in &d.emerging {
            let terms: Vec<String> = e.terms.iter().map(|t| format!("“{}”", esc(t))).collect();
            let links: Vec<String> = e
                .evidence
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, u)| link(u, &format!("source {}", i + 1), "color:#1d4e89;"))
                .collect();
            o.push_str(&format!(
                "<div style=\"padding:6px 0;border-top:1px solid #eef1f4;font-size:13px;\"><strong>{}</strong><div style=\"color:#52606d;\">{}</div><div style=\"font-size:12px;\">{}</div></div>",
                terms.join(", "),
                esc(&e.message),
                links.join(" · ")
            ));
        }
        o.push_str("</td></tr>\n");
    }
    o.push_str("<tr><td style=\"padding:16px 24px 20px 24px;font-size:11px;color:#9aa5b1;\">Made by vigie from the sources of this watch. Every mention, expectation and alert links to the documents behind it.</td></tr>\n");
    o.push_str("</table>\n</td></tr></table>\n</body></html>\n");
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
