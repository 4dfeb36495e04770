//! `vigie search QUERY`: ranked hits with highlighted snippets, as text or JSON Lines.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::args::{Global, SearchArgs, SentimentArg};
use crate::cli::common::{
    check_lang, check_watch, display_zone, load_config, local_time, output_failed, period,
    plural_es, resolve_brand, Failure,
};
use crate::data::DataDir;
use crate::doc::{ExpectationKind, Label};
use crate::index::search::{Filters, Reader};

/// `vigie search`.
pub fn search(g: &Global, a: SearchArgs) -> Result<ExitCode, Failure> {
    let data = DataDir::new(&g.data);
    let config = load_config(g, false)?;
    let brand = a
        .brand
        .as_deref()
        .map(|b| resolve_brand(&config, b))
        .transpose()?;
    if let Some(w) = &a.watch {
        check_watch(&config, w, &g.pipelines)?;
    }
    let (since, until) = period(a.since.as_deref(), a.until.as_deref())?;
    let lang = a.lang.as_deref().map(check_lang).transpose()?;
    let zone = display_zone(&config, a.watch.as_deref());
    let filters = Filters {
        brand,
        watch: a.watch.clone(),
        since,
        until,
        lang,
        sentiment: a.sentiment.map(|s| match s {
            SentimentArg::Negative => Label::Negative,
            SentimentArg::Neutral => Label::Neutral,
            SentimentArg::Positive => Label::Positive,
        }),
        expectation: match a.expectation.as_deref() {
            None => None,
            Some("any") => Some(None),
            Some(k) => Some(Some(ExpectationKind::parse(k).ok_or_else(|| {
                Failure::Usage(format!(
                    "--expectation {k:?}: expected complaint, request or wish"
                ))
            })?)),
        },
        source: a.source.clone(),
    };
    let query = crate::analyze::query::Query::parse(&a.query)
        .map_err(|e| Failure::Usage(format!("invalid query {:?}: {e}", a.query)))?;
    let reader = match Reader::open(&data) {
        Ok(r) => r,
        Err(crate::index::search::SearchError::Data(crate::data::DataError::NoIndex { dir })) => {
            eprintln!("no index in {dir} yet: run `vigie ingest FILE` or `vigie run` first");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(Failure::Other(e.into())),
    };
    let hits = reader
        .search_query(&query, &filters, a.limit)
        .map_err(|e| Failure::Other(e.into()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let color = !a.json && std::io::stdout().is_terminal();
    for (i, h) in hits.iter().enumerate() {
        let d = &h.doc;
        let r = if a.json {
            let v = h.to_json();
            writeln!(out, "{v}")
        } else {
            let (b0, b1) = if color {
                ("\x1b[1m", "\x1b[0m")
            } else {
                ("", "")
            };
            let title = crate::doc::headline(&d.title, &d.content);
            let mut tags = vec![local_time(d.published, zone), d.source.clone()];
            if let Some(who) = &d.meta.author {
                tags.push(format!("by {who}"));
            }
            tags.extend([d.lang.clone(), d.sentiment.label.as_str().to_string()]);
            if !d.brands.is_empty() {
                tags.push(d.brands.join(","));
            }
            let kinds = d.expectation_kinds();
            if !kinds.is_empty() {
                tags.push(kinds.join(","));
            }
            match (&d.dup_of, d.meta.also_seen.len()) {
                (Some(o), _) => tags.push(format!("copy of {o}")),
                (None, 0) => {}
                (None, n) => tags.push(format!("also at {n} other address{}", plural_es(n))),
            }
            let (h0, h1) = if color {
                ("\x1b[1;33m", "\x1b[0m")
            } else {
                ("[", "]")
            };
            writeln!(
                out,
                "{}. {b0}{title}{b1}\n   {}\n   {}\n   {}\n",
                i + 1,
                d.url,
                tags.join(" · "),
                h.snippet.render(h0, h1, str::to_string)
            )
        };
        if let Err(e) = r {
            return output_failed(e);
        }
    }
    out.flush().ok();
    drop(out);
    if !a.json && !g.quiet && hits.is_empty() {
        eprintln!("no match for {:?}", a.query);
    }
    Ok(ExitCode::SUCCESS)
}
