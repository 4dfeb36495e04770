//! Query strings into what the index reads: the command line's filter names (`q`, `limit`,
//! `brand`, `since`, `until`, `lang`, `sentiment`, `expectation`, `source`, `watch`) with its
//! rules (a brand by id or name, `since` as a date or a duration back from now), and what was
//! wrong said plainly.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::analyze::lang::Lang;
use crate::analyze::query::Query;
use crate::config::Config;
use crate::doc::{ExpectationKind, Label};
use crate::index::search::Filters;

/// Most hits one request may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// Hits per page when the request does not say.
pub const DEFAULT_LIMIT: usize = 20;

/// A search as a query string gives it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
    pub limit: Option<String>,
    pub page: Option<String>,
    pub brand: Option<String>,
    pub watch: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub lang: Option<String>,
    pub sentiment: Option<String>,
    pub expectation: Option<String>,
    pub source: Option<String>,
    pub hl: Option<String>,
}

/// A search ready to run.
pub struct Search {
    /// The query as typed (empty: every document).
    pub text: String,
    pub query: Query,
    pub filters: Filters,
    pub limit: usize,
    /// From 1.
    pub page: usize,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl SearchParams {
    /// The search, or what is wrong with the parameters.
    pub fn search(&self, config: &Config, default_limit: usize) -> Result<Search, String> {
        let text = given(&self.q).unwrap_or("").to_string();
        let query = if text.is_empty() {
            Query::All
        } else {
            Query::parse(&text).map_err(|e| format!("invalid query {text:?}: {e}"))?
        };
        let limit = match given(&self.limit) {
            None => default_limit,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("limit {s:?}: expected a number from 1 to {MAX_LIMIT}"))?
                .min(MAX_LIMIT),
        };
        let page = match given(&self.page) {
            None => 1,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| format!("page {s:?}: expected a number from 1"))?,
        };
        let filters = self.filters(config)?;
        Ok(Search {
            text,
            query,
            filters,
            limit,
            page,
        })
    }

    /// The filters alone.
    pub fn filters(&self, config: &Config) -> Result<Filters, String> {
        let now = Utc::now();
        let since = given(&self.since)
            .map(|s| when("since", s, now))
            .transpose()?;
        let until = given(&self.until)
            .map(|s| when("until", s, now))
            .transpose()?;
        if let (Some(f), Some(t)) = (since, until) {
            if f >= t {
                return Err("since is not before until: the period is empty".into());
            }
        }
        let brand = given(&self.brand).map(|b| brand(config, b)).transpose()?;
        let watch = match given(&self.watch) {
            None => None,
            Some(w) if config.watch(w).is_some() => Some(w.to_string()),
            Some(w) => {
                let names: Vec<&str> = config.watches.iter().map(|w| w.name.as_str()).collect();
                return Err(format!(
                    "watch {w:?}: no watch of that name (watches: {})",
                    names.join(", ")
                ));
            }
        };
        let lang = given(&self.lang)
            .map(|l| {
                Lang::from_code(l)
                    .map(|l| l.code().to_string())
                    .ok_or_else(|| format!("lang {l:?}: not a language code such as fr or en"))
            })
            .transpose()?;
        let sentiment = given(&self.sentiment)
            .map(|s| {
                Label::parse(&s.to_ascii_lowercase()).ok_or_else(|| {
                    format!("sentiment {s:?}: expected negative, neutral or positive")
                })
            })
            .transpose()?;
        let expectation = match given(&self.expectation) {
            None => None,
            Some("any") => Some(None),
            Some(k) => Some(Some(ExpectationKind::parse(k).ok_or_else(|| {
                format!("expectation {k:?}: expected complaint, request, wish or any")
            })?)),
        };
        Ok(Filters {
            brand,
            watch,
            since,
            until,
            lang,
            sentiment,
            expectation,
            source: given(&self.source).map(str::to_string),
        })
    }
}

/// A `since`/`until` value: a duration back from now (`24h`, `7d`) or a date.
pub fn when(what: &str, s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    crate::time::parse_when(s, now).map_err(|e| format!("{what}: {e}"))
}

/// A brand by id or display name, in any case; with no brand configured, as given.
pub fn brand(config: &Config, value: &str) -> Result<String, String> {
    let brands: Vec<&crate::config::Brand> =
        config.watches.iter().flat_map(|w| &w.brands).collect();
    if brands.is_empty() || brands.iter().any(|b| b.id == value) {
        return Ok(value.to_string());
    }
    let folded = value.trim().to_lowercase();
    brands
        .iter()
        .find(|b| b.id.to_lowercase() == folded || b.name.to_lowercase() == folded)
        .map(|b| b.id.clone())
        .ok_or_else(|| {
            let mut known: Vec<&str> = brands.iter().map(|b| b.id.as_str()).collect();
            known.sort();
            known.dedup();
            format!(
                "brand {value:?}: no such brand (brands: {})",
                known.join(", ")
            )
        })
}
