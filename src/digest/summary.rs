//! The digest's first lines: what matters, in one to six plain sentences in the digest's
//! language, in order: each brand talked about (how much, against the period before, the
//! tone, and the aspect and words behind it), the alerts, and what waits for an answer. No
//! statistics: the figures of the alerts stay in their details below.

use crate::alert::{Alert, AlertKind};
use crate::analyze::aspect::Aspect;
use crate::analyze::lang::Lang;
use crate::digest::build::{BrandSection, Digest};
use crate::digest::words::{words, Words};
use crate::doc::ExpectationKind;

/// Most brands given a sentence of their own.
const BRAND_SENTENCES: usize = 3;
/// Most alerts named in the alerts' sentence.
const ALERTS_NAMED: usize = 3;

/// The summary of `d`, in its language.
pub fn summarize(d: &Digest) -> Vec<String> {
    let w = words(d.language);
    let fr = w.lang == Lang::Fr;
    let hours = (d.to - d.from).num_hours();
    let mut out = Vec::new();
    let mut ranked: Vec<&BrandSection> = d.brands.iter().filter(|b| b.mentions > 0).collect();
    ranked.sort_by(|a, b| b.mentions.cmp(&a.mentions).then(a.name.cmp(&b.name)));
    if ranked.is_empty() {
        out.push(if fr {
            "Aucune mention des marques de cette veille sur la période.".to_string()
        } else {
            "No mention of this watch's brands in the period.".to_string()
        });
    }
    for b in ranked.iter().take(BRAND_SENTENCES) {
        out.push(brand_sentence(w, b, hours));
    }
    let new: Vec<&Alert> = d.alerts.iter().filter(|a| !a.reminder).collect();
    if !new.is_empty() {
        let phrases: Vec<String> = new
            .iter()
            .take(ALERTS_NAMED)
            .map(|a| alert_phrase(w, a))
            .collect();
        // "1 alert: …", never a line that opens like the alerts' heading
        let head = w.count(new.len(), w.alert);
        let colon = if fr { " : " } else { ": " };
        let mut s = format!("{head}{colon}{}", join(w, &phrases));
        if new.len() > ALERTS_NAMED {
            s.push_str(if fr {
                ", entre autres"
            } else {
                ", among others"
            });
        }
        s.push('.');
        out.push(s);
    }
    if let Some(s) = waiting_sentence(w, d) {
        out.push(s);
    }
    out
}

fn capital(s: &str) -> String {
    crate::digest::words::capitalised(s)
}

/// "a, b and c" / "a, b et c".
fn join(w: &Words, parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!(
            "{} {} {last}",
            init.join(", "),
            if w.lang == Lang::Fr { "et" } else { "and" }
        ),
    }
}

fn quoted(w: &Words, s: &str) -> String {
    if w.lang == Lang::Fr {
        format!("«\u{a0}{s}\u{a0}»")
    } else {
        format!("“{s}”")
    }
}

/// "à cause du réseau", "grâce au service client", "because of the network".
fn because(w: &Words, a: Aspect, good: bool) -> String {
    if w.lang != Lang::Fr {
        return format!(
            "{} {}",
            if good { "thanks to" } else { "because of" },
            w.aspect(a)
        );
    }
    let name = w.aspect(a);
    let (head, m, pl) = if good {
        ("grâce", "au", "aux")
    } else {
        ("à cause", "du", "des")
    };
    if let Some(rest) = name.strip_prefix("le ") {
        format!("{head} {m} {rest}")
    } else if let Some(rest) = name.strip_prefix("les ") {
        format!("{head} {pl} {rest}")
    } else if good {
        format!("{head} à {name}")
    } else {
        format!("{head} de {name}")
    }
}

fn brand_sentence(w: &Words, b: &BrandSection, hours: i64) -> String {
    let fr = w.lang == Lang::Fr;
    let before = w.before(hours);
    let change = if b.previous == 0 {
        if fr {
            format!("aucune {before}")
        } else {
            format!("none {before}")
        }
    } else if fr {
        let against = match before.strip_prefix("les ") {
            Some(rest) => format!("aux {rest}"),
            None => format!("à {before}"),
        };
        format!("{} par rapport {against}", w.change(b.mentions, b.previous))
    } else {
        format!("{} on {before}", w.change(b.mentions, b.previous))
    };
    let n = b.mentions.max(1) as f64;
    let (neg, pos) = (
        b.sentiment.negative as f64 / n,
        b.sentiment.positive as f64 / n,
    );
    let tone = if neg > pos && neg >= 0.4 {
        -1
    } else if pos > neg && pos >= 0.4 {
        1
    } else if neg >= 0.25 && pos >= 0.25 {
        2
    } else {
        0
    };
    let tone_words = match (fr, tone) {
        (false, -1) => "mostly negative",
        (false, 1) => "mostly positive",
        (false, 2) => "divided",
        (false, _) => "mostly neutral",
        (true, -1) => "surtout négatives",
        (true, 1) => "surtout positives",
        (true, 2) => "partagées",
        (true, _) => "surtout neutres",
    };
    let colon = if fr { " : " } else { ": " };
    let mut s = format!(
        "{}{colon}{} ({change}), {tone_words}",
        b.name,
        w.count(b.mentions, w.mention)
    );
    let find = |a: Aspect| b.aspects.iter().find(|x| x.aspect == a);
    let weakness = b.weaknesses.first().copied();
    let strength = b.strengths.first().copied();
    let cues = |a: Aspect| -> String {
        // the words that named it, unless they only repeat its name
        let name = crate::analyze::text::fold(w.aspect(a));
        let c: Vec<String> = find(a)
            .map(|x| {
                x.cues
                    .iter()
                    .filter(|c| !name.contains(&crate::analyze::text::fold(c)))
                    .take(2)
                    .map(|c| quoted(w, c))
                    .collect()
            })
            .unwrap_or_default();
        if c.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.join(", "))
        }
    };
    let (main, other) = match tone {
        1 => (strength.map(|a| (a, true)), weakness.map(|a| (a, false))),
        _ => (weakness.map(|a| (a, false)), strength.map(|a| (a, true))),
    };
    if let Some((a, good)) = main {
        s.push_str(&format!(", {}{}", because(w, a, good), cues(a)));
    }
    if let Some((a, good)) = other {
        let clause = match (fr, good) {
            (false, true) => format!("customers praise {}", w.aspect(a)),
            (false, false) => format!("customers criticise {}", w.aspect(a)),
            (true, true) => format!("les clients saluent {}", w.aspect(a)),
            (true, false) => format!("les clients critiquent {}", w.aspect(a)),
        };
        s.push_str(if fr { "\u{a0}; " } else { "; " });
        s.push_str(&clause);
    }
    s.push('.');
    s
}

/// An alert in a few plain words: "an unusual rise in mentions of Lumio".
pub fn alert_phrase(w: &Words, a: &Alert) -> String {
    let fr = w.lang == Lang::Fr;
    let brand = a
        .brand_name
        .as_deref()
        .or(a.brand.as_deref())
        .unwrap_or("?");
    let terms: Vec<String> = a.terms.iter().take(3).map(|t| quoted(w, t)).collect();
    match (fr, a.kind) {
        (false, AlertKind::VolumeSpike) => format!("an unusual rise in mentions of {brand}"),
        (false, AlertKind::VolumeDrop) => format!("unusually few mentions of {brand}"),
        (false, AlertKind::SentimentShift) => {
            format!("opinion of {brand} turning negative")
        }
        (false, AlertKind::Emerging) => format!("a subject on the rise: {}", terms.join(", ")),
        (true, AlertKind::VolumeSpike) => {
            format!("une hausse inhabituelle des mentions de {brand}")
        }
        (true, AlertKind::VolumeDrop) => {
            format!("des mentions de {brand} inhabituellement rares")
        }
        (true, AlertKind::SentimentShift) => {
            format!("une montée des avis négatifs sur {brand}")
        }
        (true, AlertKind::Emerging) => format!("un sujet qui monte : {}", terms.join(", ")),
    }
}

/// "14 requests wait for an answer, 9 of them for Lumio; 40 complaints and 3 wishes."
fn waiting_sentence(w: &Words, d: &Digest) -> Option<String> {
    let fr = w.lang == Lang::Fr;
    let total = |k: ExpectationKind| -> usize {
        d.expectations
            .iter()
            .filter(|e| e.kind == k)
            .map(|e| e.count)
            .sum()
    };
    let (requests, complaints, wishes) = (
        total(ExpectationKind::Request),
        total(ExpectationKind::Complaint),
        total(ExpectationKind::Wish),
    );
    if requests + complaints + wishes == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if requests > 0 {
        // the brand most of them are for
        let mut by_brand: Vec<(&str, usize)> = Vec::new();
        for e in d
            .expectations
            .iter()
            .filter(|e| e.kind == ExpectationKind::Request)
        {
            if let Some(b) = e.brand.as_deref() {
                match by_brand.iter_mut().find(|x| x.0 == b) {
                    Some(x) => x.1 += e.count,
                    None => by_brand.push((b, e.count)),
                }
            }
        }
        by_brand.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let top = by_brand.first().map(|(id, n)| {
            let name = d
                .brands
                .iter()
                .find(|b| b.id == *id)
                .map(|b| b.name.as_str())
                .unwrap_or(id);
            match (fr, *n == requests) {
                (true, true) if requests > 1 => format!(", toutes pour {name}"),
                (false, true) if requests > 1 => format!(", all for {name}"),
                (_, true) => format!(" ({name})"),
                (true, false) => format!(", dont {} pour {name}", w.number(*n)),
                (false, false) => format!(", {} of them for {name}", w.number(*n)),
            }
        });
        let verb = match (fr, requests == 1) {
            (false, true) => "request waits for an answer",
            (false, false) => "requests wait for an answer",
            (true, true) => "demande attend une réponse",
            (true, false) => "demandes attendent une réponse",
        };
        parts.push(format!(
            "{} {verb}{}",
            w.number(requests),
            top.unwrap_or_default()
        ));
    }
    let mut rest = Vec::new();
    if complaints > 0 {
        rest.push(w.count(
            complaints,
            if fr {
                ("réclamation", "réclamations")
            } else {
                ("complaint", "complaints")
            },
        ));
    }
    if wishes > 0 {
        rest.push(w.count(
            wishes,
            if fr {
                ("souhait", "souhaits")
            } else {
                ("wish", "wishes")
            },
        ));
    }
    if !rest.is_empty() {
        parts.push(format!(
            "{}{}",
            join(w, &rest),
            if fr {
                " sur la période"
            } else {
                " in the period"
            }
        ));
    }
    let mut s = parts.join(if fr { "\u{a0}; " } else { "; " });
    s = capital(&s);
    s.push('.');
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::build::Split;
    use crate::digest::insight::AspectCount;
    use chrono::{TimeZone, Utc};

    fn section(id: &str, mentions: usize, previous: usize, neg: usize, pos: usize) -> BrandSection {
        BrandSection {
            id: id.into(),
            name: format!("{id} & Cie"),
            mentions,
            previous,
            sentiment: Split {
                negative: neg,
                neutral: mentions - neg - pos,
                positive: pos,
            },
            top: Vec::new(),
            days: Vec::new(),
            aspects: vec![
                AspectCount {
                    aspect: Aspect::Network,
                    positive: 1,
                    negative: 20,
                    neutral: 0,
                    examples: vec!["https://e.example/1".into()],
                    cues: vec!["panne".into(), "réseau".into()],
                },
                AspectCount {
                    aspect: Aspect::CustomerService,
                    positive: 9,
                    negative: 2,
                    neutral: 0,
                    examples: vec!["https://e.example/2".into()],
                    cues: vec!["conseiller".into()],
                },
            ],
            strengths: vec![Aspect::CustomerService],
            weaknesses: vec![Aspect::Network],
            ideas: Vec::new(),
            voices: Vec::new(),
            share_of_voice: 0.5,
            previous_share_of_voice: 0.5,
            sampled: None,
        }
    }

    fn digest(lang: Lang) -> Digest {
        let to = Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap();
        Digest {
            watch: "w".into(),
            language: lang,
            summary: Vec::new(),
            from: to - chrono::Duration::days(10),
            to,
            timezone: chrono_tz::Europe::Paris,
            brands: vec![
                section("orbik", 3, 3, 0, 0),
                section("lumio", 57, 24, 40, 10),
            ],
            expectations: Vec::new(),
            emerging: Vec::new(),
            alerts: Vec::new(),
            documents: 80,
        }
    }

    #[test]
    fn the_most_talked_about_brand_comes_first_with_its_reason() {
        let fr = summarize(&digest(Lang::Fr));
        assert_eq!(
            fr[0],
            "lumio & Cie : 57 mentions (+138\u{a0}% par rapport aux 10 jours précédents), surtout négatives, à cause du réseau («\u{a0}panne\u{a0}»)\u{a0}; les clients saluent le service client."
        );
        let en = summarize(&digest(Lang::En));
        assert_eq!(
            en[0],
            "lumio & Cie: 57 mentions (+138% on the previous 10 days), mostly negative, because of the network (“panne”, “réseau”); customers praise customer service."
        );
        assert!(
            en[1].starts_with("orbik & Cie: 3 mentions (0% on"),
            "{}",
            en[1]
        );
        assert!(en.len() <= 6);
    }

    #[test]
    fn nothing_to_say_is_said_plainly() {
        let mut d = digest(Lang::En);
        d.brands.clear();
        assert_eq!(
            summarize(&d),
            ["No mention of this watch's brands in the period."]
        );
    }
}
