//! Remote queries built from a watch's brands, one dialect per platform.
//!
//! The remote search only gathers candidates: vigie's own mention rules decide afterwards
//! what is a mention. So a query asks broadly (every alias, ambiguous names with their
//! context words where the platform can say so) and leaves the fine rules to vigie, except on
//! Google News, whose answers are few: there the exclusions go out negated so that they do
//! not take the place of real mentions.

use crate::analyze::lang::Lang;
use crate::config::Brand;

/// Longest query sent in one request (characters); longer ones are split.
pub const MAX_QUERY_GOOGLE: usize = 500;
/// GDELT refuses long queries.
pub const MAX_QUERY_GDELT: usize = 250;
/// Reddit cuts queries at 512 characters.
pub const MAX_QUERY_REDDIT: usize = 500;
/// A generic JSON API.
pub const MAX_QUERY_JSON: usize = 500;
/// Context words given with an ambiguous name at most (the first ones of the list).
pub const MAX_CONTEXT_WORDS: usize = 16;

/// What one brand asks: its searchable names, and the words around its ambiguous ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BrandTerms {
    /// Names that are always a mention (handles, hashtags and domains set aside).
    pub names: Vec<String>,
    /// Names that are a mention only with a context word.
    pub ambiguous: Vec<String>,
    pub context: Vec<String>,
    pub exclude: Vec<String>,
    /// `@handles` and `#hashtags` without their sign.
    pub handles: Vec<String>,
}

/// Whether an alias is a domain (`orange.fr`).
fn is_domain(a: &str) -> bool {
    let parts: Vec<&str> = a.split('.').collect();
    parts.len() >= 2
        && !a.contains(' ')
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && parts
            .last()
            .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()))
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() && !v.iter().any(|x| x.eq_ignore_ascii_case(s)) {
        v.push(s.to_string());
    }
}

/// The terms of each brand.
pub fn brand_terms(brands: &[Brand]) -> Vec<BrandTerms> {
    brands
        .iter()
        .map(|b| {
            let mut t = BrandTerms::default();
            for a in &b.aliases {
                let a = a.trim();
                if let Some(h) = a.strip_prefix('@').or_else(|| a.strip_prefix('#')) {
                    push_unique(&mut t.handles, h);
                } else if !is_domain(a) {
                    push_unique(&mut t.names, a);
                }
            }
            for a in &b.ambiguous {
                if !t.names.iter().any(|n| n.eq_ignore_ascii_case(a.trim())) {
                    push_unique(&mut t.ambiguous, a);
                }
            }
            for c in b.context.iter().take(MAX_CONTEXT_WORDS) {
                push_unique(&mut t.context, c);
            }
            for e in &b.exclude {
                push_unique(&mut t.exclude, e);
            }
            t
        })
        .filter(|t| !t.names.is_empty() || !t.ambiguous.is_empty())
        .collect()
}

/// A term as the platform reads it: phrases quoted.
fn quoted(term: &str) -> String {
    let clean = term.replace('"', " ");
    let clean = clean.trim();
    if clean.contains(char::is_whitespace) || clean.contains(['\'', '’', '-']) {
        format!("\"{clean}\"")
    } else {
        clean.to_string()
    }
}

/// Joins pieces with ` OR `, in groups no longer than `max` characters (a piece longer
/// than `max` goes alone). Each group gets the `suffix` of the pieces it holds.
fn pack(pieces: Vec<(String, Vec<String>)>, max: usize, wrap: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut cur_suffix: Vec<String> = Vec::new();
    let render = |p: &[String], s: &[String]| {
        let mut q = p.join(" OR ");
        if wrap && p.len() > 1 {
            q = format!("({q})");
        }
        for x in s {
            q.push(' ');
            q.push_str(x);
        }
        q
    };
    for (piece, suffix) in pieces {
        let mut trial = cur.clone();
        trial.push(piece.clone());
        let mut trial_suffix = cur_suffix.clone();
        for s in &suffix {
            if !trial_suffix.contains(s) {
                trial_suffix.push(s.clone());
            }
        }
        if !cur.is_empty() && render(&trial, &trial_suffix).chars().count() > max {
            out.push(render(&cur, &cur_suffix));
            cur = vec![piece];
            cur_suffix = suffix;
        } else {
            cur = trial;
            cur_suffix = trial_suffix;
        }
    }
    if !cur.is_empty() {
        out.push(render(&cur, &cur_suffix));
    }
    out
}

/// Google News: `"A B" OR C OR (D (ctx1 OR ctx2)) -"excluded phrase"`, split when long.
pub fn google_news(brands: &[Brand], max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    for t in brand_terms(brands) {
        let negated: Vec<String> = t
            .exclude
            .iter()
            .map(|e| format!("-\"{}\"", e.replace('"', " ").trim()))
            .collect();
        for n in &t.names {
            pieces.push((quoted(n), negated.clone()));
        }
        for a in &t.ambiguous {
            let piece = if t.context.is_empty() {
                quoted(a)
            } else {
                let ctx: Vec<String> = t.context.iter().map(|c| quoted(c)).collect();
                format!("({} ({}))", quoted(a), ctx.join(" OR "))
            };
            pieces.push((piece, negated.clone()));
        }
    }
    pack(pieces, max, false)
}

/// Platforms that read `OR` and quoted phrases (Reddit, GDELT, most JSON APIs): every name,
/// ambiguous ones alone (their context is vigie's to check), split when long. `wrap` puts
/// the alternatives in parentheses (GDELT requires it).
pub fn or_queries(brands: &[Brand], max: usize, wrap: bool) -> Vec<String> {
    let mut pieces = Vec::new();
    for t in brand_terms(brands) {
        for n in t.names.iter().chain(&t.ambiguous) {
            pieces.push((quoted(n), Vec::new()));
        }
    }
    pack(pieces, max, wrap)
}

/// Hacker News (Algolia): no `OR`, every word of a query is required, so one query per name.
pub fn hn_queries(brands: &[Brand]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in brand_terms(brands) {
        for n in t.names.iter().chain(&t.ambiguous) {
            push_unique(&mut out, n);
        }
    }
    out
}

/// Mastodon hashtags from the brands: each name and handle, its letters and digits only
/// (`Carrefour Market` → `carrefourmarket`).
pub fn hashtags(brands: &[Brand]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in brand_terms(brands) {
        for n in t.names.iter().chain(&t.ambiguous).chain(&t.handles) {
            let tag: String = n
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .flat_map(char::to_lowercase)
                .collect();
            if !tag.is_empty() {
                push_unique(&mut out, &tag);
            }
        }
    }
    out
}

/// Google News edition parameters `(hl, gl, ceid)` for a language and an optional country.
pub fn google_edition(lang: Option<Lang>, country: Option<&str>) -> (String, String, String) {
    let code = lang.map(|l| l.code()).unwrap_or("en");
    let gl = match country {
        Some(c) => c.to_ascii_uppercase(),
        None => match code {
            "en" => "US".to_string(),
            "pt" => "BR".to_string(),
            "sv" => "SE".to_string(),
            "da" => "DK".to_string(),
            "ja" => "JP".to_string(),
            "ko" => "KR".to_string(),
            "zh" => "CN".to_string(),
            other => other.to_ascii_uppercase(),
        },
    };
    let hl = if code == "en" && gl == "US" {
        "en-US".to_string()
    } else {
        code.to_string()
    };
    let ceid = format!("{gl}:{code}");
    (hl, gl, ceid)
}

/// GDELT's name of a language (`sourcelang:french`).
pub fn gdelt_language(lang: Lang) -> Option<&'static str> {
    Some(match lang.code() {
        "fr" => "french",
        "en" => "english",
        "de" => "german",
        "es" => "spanish",
        "it" => "italian",
        "pt" => "portuguese",
        "nl" => "dutch",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(aliases: &[&str], ambiguous: &[&str], context: &[&str], exclude: &[&str]) -> Brand {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        Brand {
            id: "b".into(),
            name: "B".into(),
            aliases: v(aliases),
            ambiguous: v(ambiguous),
            context: v(context),
            exclude: v(exclude),
            case_sensitive: false,
            own_handles: Vec::new(),
        }
    }

    #[test]
    fn handles_and_domains_stay_out_of_text_queries() {
        let b = brand(
            &["Sosh", "@sosh_fr", "sosh.fr", "Orange France"],
            &[],
            &[],
            &[],
        );
        let t = brand_terms(&[b]);
        assert_eq!(t[0].names, vec!["Sosh", "Orange France"]);
        assert_eq!(t[0].handles, vec!["sosh_fr"]);
    }

    #[test]
    fn each_dialect() {
        let b = brand(
            &["Sosh", "Orange France", "@Orange_conseil"],
            &["Orange"],
            &["forfait", "fibre"],
            &["jus d'orange"],
        );
        let gn = google_news(std::slice::from_ref(&b), MAX_QUERY_GOOGLE);
        assert_eq!(
            gn,
            vec!["Sosh OR \"Orange France\" OR (Orange (forfait OR fibre)) -\"jus d'orange\""]
        );
        assert_eq!(
            or_queries(std::slice::from_ref(&b), MAX_QUERY_GDELT, true),
            vec!["(Sosh OR \"Orange France\" OR Orange)"]
        );
        assert_eq!(
            or_queries(std::slice::from_ref(&b), MAX_QUERY_REDDIT, false),
            vec!["Sosh OR \"Orange France\" OR Orange"]
        );
        assert_eq!(
            hn_queries(std::slice::from_ref(&b)),
            vec!["Sosh", "Orange France", "Orange"]
        );
        assert_eq!(
            hashtags(&[b]),
            vec!["sosh", "orangefrance", "orange", "orange_conseil"]
        );
        assert_eq!(
            google_edition(Some(Lang::Fr), None),
            ("fr".into(), "FR".into(), "FR:fr".into())
        );
        assert_eq!(
            google_edition(None, None),
            ("en-US".into(), "US".into(), "US:en".into())
        );
        assert_eq!(
            google_edition(Some(Lang::Fr), Some("be")),
            ("fr".into(), "BE".into(), "BE:fr".into())
        );
    }

    #[test]
    fn split_google_queries_keep_their_exclusions() {
        let names: Vec<String> = (0..30).map(|i| format!("Enseigne {i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let qs = google_news(&[brand(&refs, &[], &[], &["Enseigne de rue"])], 120);
        assert!(qs.len() > 1);
        assert!(
            qs.iter().all(|q| q.ends_with("-\"Enseigne de rue\"")),
            "{qs:?}"
        );
    }

    #[test]
    fn long_queries_are_split() {
        let names: Vec<String> = (0..40).map(|i| format!("Brand number {i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let qs = or_queries(&[brand(&refs, &[], &[], &[])], 100, false);
        assert!(qs.len() > 1);
        assert!(qs.iter().all(|q| q.chars().count() <= 100), "{qs:?}");
        let all = qs.join(" ");
        assert!(names.iter().all(|n| all.contains(&format!("\"{n}\""))));
    }
}
