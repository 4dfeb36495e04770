//! The pages, rendered on the server (maud escapes every value it is given): the overview,
//! search, the answer queue, alerts, sources and the login page. They read without
//! JavaScript; `/static/vigie.js` only makes the queue's and alerts' buttons answer in place
//! and tells the reader when new documents arrived.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use crate::analyze::lang::Lang;
use crate::digest::words::{words, Words};
use crate::doc::{ExpectationKind, Label};
use crate::index::search::Hit;
use crate::serve::api::{
    alerts_json, blocking, queue_items, queue_page, run_search, AlertsParams, DigestParams,
    QueueParams, ALERTS_SINCE,
};
use crate::serve::app::App;
use crate::serve::params::SearchParams;
use crate::serve::queue::{QState, QueueItem, Reason, DEFAULT_SINCE};
use crate::serve::security::{same_secret, write_allowed, SESSION_COOKIE};
use crate::serve::words::{pick, ui, Ui};

/// What every page needs to know of its request.
pub struct Ctx {
    pub ui: &'static Ui,
    pub w: &'static Words,
    pub lang: Lang,
    /// `?hl=` as asked, kept in the page's links.
    pub hl: Option<&'static str>,
    pub tz: chrono_tz::Tz,
    pub csrf: String,
    pub path: String,
    /// The request's query string (without `hl`), to switch language in place.
    pub query: Vec<(String, String)>,
    pub guarded: bool,
}

impl Ctx {
    pub fn new(app: &App, headers: &HeaderMap, uri: &Uri) -> Ctx {
        let pairs: Vec<(String, String)> = uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let hl_param = pairs
            .iter()
            .find(|(k, _)| k == "hl")
            .map(|(_, v)| v.as_str());
        let fallback = app
            .config
            .watches
            .first()
            .map(|w| w.digest.language())
            .unwrap_or(Lang::En);
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let lang = pick(hl_param, accept, fallback);
        let hl = hl_param.map(|_| if lang == Lang::Fr { "fr" } else { "en" });
        Ctx {
            ui: ui(lang),
            w: words(lang),
            lang,
            hl,
            tz: app.zone(),
            csrf: app.security.csrf.clone(),
            path: uri.path().to_string(),
            query: pairs.into_iter().filter(|(k, _)| k != "hl").collect(),
            guarded: app.security.token.is_some(),
        }
    }

    /// A link to `path` with `params` (empty values left out), the language kept.
    pub fn href(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if let Some(hl) = self.hl {
            s.append_pair("hl", hl);
        }
        let q = s.finish();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    }

    /// This page in another language.
    fn in_lang(&self, code: &str) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            s.append_pair(k, v);
        }
        s.append_pair("hl", code);
        format!("{}?{}", self.path, s.finish())
    }

    /// A time in the workspace's zone.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        self.w.short_time(&t.with_timezone(&self.tz), true)
    }

    /// "3 h", "2 j" / "2 d": how long ago.
    pub fn age(&self, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
        let m = (now - t).num_minutes().max(0);
        let fr = self.lang == Lang::Fr;
        if m < 60 {
            format!("{m} min")
        } else if m < 48 * 60 {
            format!("{} h", m / 60)
        } else if fr {
            format!("{} j", m / 1440)
        } else {
            format!("{} d", m / 1440)
        }
    }

    fn hours(&self, h: f64) -> String {
        if h < 1.0 {
            format!("{} min", (h * 60.0).round())
        } else if h < 48.0 {
            let v = (h * 10.0).round() / 10.0;
            if self.lang == Lang::Fr {
                format!("{} h", v.to_string().replace('.', ","))
            } else {
                format!("{v} h")
            }
        } else {
            let d = (h / 24.0 * 10.0).round() / 10.0;
            if self.lang == Lang::Fr {
                format!("{} j", d.to_string().replace('.', ","))
            } else {
                format!("{d} d")
            }
        }
    }
}

/// A document address as a link, only when it is a web address (`javascript:`, `data:` and
/// the like stay text).
pub fn safe_href(u: &str) -> Option<String> {
    let parsed = url::Url::parse(u.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

fn link_or_text(u: &str, label: &str) -> Markup {
    match safe_href(u) {
        Some(h) => {
            html! { a href=(h) rel="noopener noreferrer nofollow" target="_blank" { (label) } }
        }
        None => html! { span.nolink { (label) } },
    }
}

fn page(c: &Ctx, title: &str, body: Markup) -> Markup {
    let nav = [
        ("/", c.ui.overview),
        ("/search", c.ui.search),
        ("/queue", c.ui.queue),
        ("/alerts", c.ui.alerts),
        ("/sources", c.ui.sources),
    ];
    let zone = c.ui.times_in.replace("{tz}", c.tz.name());
    html! {
        (DOCTYPE)
        html lang=(c.ui.code) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(c.csrf);
                title { (title) " · vigie" }
                link rel="stylesheet" href="/static/vigie.css";
                script src="/static/vigie.js" defer {}
            }
            body data-new-documents=(c.ui.new_documents) data-reload=(c.ui.reload) {
                header.top {
                    a.logo href=(c.href("/", &[])) { "vigie" }
                    nav {
                        @for (p, label) in nav {
                            @if c.path == p {
                                a href=(c.href(p, &[])) aria-current="page" { (label) }
                            } @else {
                                a href=(c.href(p, &[])) { (label) }
                            }
                        }
                    }
                    div.langs {
                        a href=(c.in_lang("fr")) hreflang="fr" lang="fr" { "FR" }
                        " · "
                        a href=(c.in_lang("en")) hreflang="en" lang="en" { "EN" }
                        @if c.guarded {
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(c.csrf);
                                button type="submit" { (c.ui.logout) }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
                footer { p { (zone) } }
            }
        }
    }
}

fn html_response(m: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        m.into_string(),
    )
        .into_response()
}

fn error_page(c: &Ctx, status: StatusCode, msg: &str) -> Response {
    let mut r = html_response(page(c, c.ui.overview, html! { p.error { (msg) } }));
    *r.status_mut() = status;
    r
}

fn label_word(ui: &Ui, l: Label) -> &'static str {
    match l {
        Label::Negative => ui.negative,
        Label::Neutral => ui.neutral,
        Label::Positive => ui.positive,
    }
}

fn kind_word(ui: &Ui, k: ExpectationKind) -> &'static str {
    match k {
        ExpectationKind::Request => ui.request,
        ExpectationKind::Complaint => ui.complaint,
        ExpectationKind::Wish => ui.wish,
    }
}

fn reason_word(ui: &Ui, r: Reason) -> &'static str {
    match r {
        Reason::Outage => ui.reasons.outage,
        Reason::Money => ui.reasons.money,
        Reason::Account => ui.reasons.account,
        Reason::Cancellation => ui.reasons.cancellation,
        Reason::Waiting => ui.reasons.waiting,
        Reason::Reach => ui.reasons.reach,
        Reason::Intensity => ui.reasons.intensity,
        Reason::Echoes => ui.reasons.echoes,
    }
}

/// Negative, neutral and positive as one bar.
fn split_bar(neg: usize, neu: usize, pos: usize) -> Markup {
    let total = (neg + neu + pos).max(1) as f64;
    let w = |n: usize| 120.0 * n as f64 / total;
    html! {
        svg.split viewBox="0 0 120 10" width="120" height="10" aria-hidden="true" xmlns="http://www.w3.org/2000/svg" {
            rect class="neg" x="0" y="0" height="10" width=(w(neg)) {}
            rect class="neu" x=(w(neg)) y="0" height="10" width=(w(neu)) {}
            rect class="pos" x=(w(neg) + w(neu)) y="0" height="10" width=(w(pos)) {}
        }
    }
}

fn period_links(c: &Ctx, path: &str, current: &str, extra: &[(&str, &str)]) -> Markup {
    html! {
        p.periods {
            (c.ui.period) " : "
            @for p in ["24h", "7d", "14d", "30d"] {
                @let params: Vec<(&str, &str)> = extra.iter().copied().chain([("since", p)]).collect();
                @if current == p {
                    strong { (p) } " "
                } @else {
                    a href=(c.href(path, &params)) { (p) } " "
                }
            }
        }
    }
}

// ---------------------------------------------------------------- overview

pub async fn overview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Query<DigestParams>,
) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    let Some(reader) = app.reader() else {
        return html_response(page(&c, c.ui.overview, html! { p { (c.ui.no_index) } }));
    };
    if app.config.watches.is_empty() {
        return html_response(page(&c, c.ui.overview, html! { p { (c.ui.no_watch) } }));
    }
    let a = app.clone();
    let lang = c.lang;
    let since = p.since.clone().filter(|s| !s.trim().is_empty());
    let only = p.watch.clone();
    let r = blocking(move || {
        let mut out = Vec::new();
        for w in &a.config.watches {
            if only.as_deref().is_some_and(|o| o != w.name) {
                continue;
            }
            let d = a.digest(&reader, w, since.as_deref(), Some(lang))?;
            out.push((w.name.clone(), d));
        }
        let queue = a.queue(&reader, DEFAULT_SINCE)?;
        Ok::<_, crate::serve::app::DigestError>((out, queue))
    })
    .await;
    let (digests, queue) = match r {
        Ok(x) => x,
        Err(crate::serve::app::DigestError::Period(e)) => {
            return error_page(&c, StatusCode::BAD_REQUEST, &e)
        }
        Err(e) => return error_page(&c, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let current = p.since.as_deref().unwrap_or("24h");
    let ui = c.ui;
    let w = c.w;
    let body = html! {
        (period_links(&c, "/", current, &[]))
        @for (name, d) in &digests {
            section.watch {
                h2 { (name) " — " (crate::digest::render::period_label(d)) }
                @if !d.summary.is_empty() {
                    div.summary {
                        h3 { (ui.summary) }
                        @for s in &d.summary { p { (s) } }
                    }
                }
                h3 { (ui.brands) }
                table.brands {
                    thead { tr {
                        th { (ui.brand) } th.num { (ui.mentions) } th.num { (ui.change) }
                        th { (ui.tone) } th.num { (ui.share_of_voice) }
                    } }
                    tbody {
                        @for b in &d.brands {
                            tr {
                                td { a href=(c.href("/search", &[("brand", b.id.as_str())])) { (b.name) } }
                                td.num { (w.number(b.mentions)) }
                                td.num { (w.change(b.mentions, b.previous)) }
                                td {
                                    (split_bar(b.sentiment.negative, b.sentiment.neutral, b.sentiment.positive))
                                    " " span.neg { (w.number(b.sentiment.negative)) " " (ui.negative) }
                                    " · " span { (w.number(b.sentiment.neutral)) " " (ui.neutral) }
                                    " · " span.pos { (w.number(b.sentiment.positive)) " " (ui.positive) }
                                }
                                td.num { (w.percent(b.share_of_voice)) }
                            }
                        }
                    }
                }
                div.charts {
                    @for b in &d.brands {
                        figure {
                            figcaption { (b.name) " — " (ui.chart_title) }
                            (crate::serve::svg::days_chart(&b.days, w, &format!("{} — {}", b.name, ui.chart_title)))
                            @if !b.weaknesses.is_empty() || !b.strengths.is_empty() {
                                p.aspects {
                                    @for a in &b.weaknesses { span.neg { (w.aspect(*a)) } " " }
                                    @for a in &b.strengths { span.pos { (w.aspect(*a)) } " " }
                                }
                            }
                        }
                    }
                }
                h3 { (ui.look_first) }
                @let first: Vec<&QueueItem> = queue.iter().filter(|i| i.watch == *name && i.state == QState::Open).take(5).collect();
                @if first.is_empty() {
                    p { (ui.queue_empty) }
                } @else {
                    ol.first {
                        @for i in &first {
                            li {
                                span.urgency { (i.urgency) } " "
                                strong { (i.brand_name) } " · " (kind_word(ui, i.kind)) " · "
                                (link_or_text(&i.url, &i.quote))
                            }
                        }
                    }
                    p { a href=(c.href("/queue", &[])) { (ui.queue) " — " (ui.see_all) } }
                }
                h3 { (ui.alerts) }
                @if d.alerts.is_empty() {
                    p { (ui.no_alert) }
                } @else {
                    ul.alerts {
                        @for a in d.alerts.iter().take(8) {
                            li {
                                (c.time(a.at)) " — "
                                a href=(c.href("/alerts", &[])) { (crate::digest::words::capitalised(&crate::digest::summary::alert_phrase(w, a))) }
                            }
                        }
                    }
                }
                @if !d.emerging.is_empty() {
                    h3 { (ui.emerging) }
                    ul {
                        @for e in &d.emerging {
                            li {
                                strong { (e.terms.join(", ")) } " — " (e.message)
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(page(&c, ui.overview, body))
}

// ---------------------------------------------------------------- search

fn facet_links(
    c: &Ctx,
    p: &SearchParams,
    key: &str,
    title: &str,
    values: &[(String, u64)],
    show: &dyn Fn(&str) -> String,
) -> Markup {
    let current = match key {
        "brands" => p.brand.as_deref(),
        "source" => p.source.as_deref(),
        "lang" => p.lang.as_deref(),
        "label" => p.sentiment.as_deref(),
        _ => p.expectation.as_deref(),
    };
    let param = match key {
        "brands" => "brand",
        "label" => "sentiment",
        "expectations" => "expectation",
        k => k,
    };
    html! {
        @if !values.is_empty() {
            div.facet {
                h4 { (title) }
                ul {
                    @for (v, n) in values {
                        @let params = search_params_with(p, param, v);
                        li {
                            @if current == Some(v.as_str()) {
                                strong { (show(v)) } " (" (c.w.number(*n as usize)) ")"
                            } @else {
                                a href=(c.href("/search", &params.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())) { (show(v)) }
                                " (" (c.w.number(*n as usize)) ")"
                            }
                        }
                    }
                }
            }
        }
    }
}

fn search_params_with<'a>(p: &SearchParams, key: &'a str, value: &str) -> Vec<(&'a str, String)> {
    let mut v: Vec<(&str, String)> = [
        ("q", &p.q),
        ("brand", &p.brand),
        ("since", &p.since),
        ("until", &p.until),
        ("lang", &p.lang),
        ("sentiment", &p.sentiment),
        ("expectation", &p.expectation),
        ("source", &p.source),
        ("limit", &p.limit),
    ]
    .into_iter()
    .filter(|(k, _)| *k != key)
    .filter_map(|(k, v)| v.clone().filter(|s| !s.is_empty()).map(|s| (k, s)))
    .collect();
    if !value.is_empty() {
        v.push((key, value.to_string()));
    }
    v
}

fn hit_markup(c: &Ctx, h: &Hit, copies: &[&Hit]) -> Markup {
    let d = &h.doc;
    let title = crate::doc::headline(&d.title, &d.content);
    let snippet = h
        .snippet
        .render("<mark>", "</mark>", crate::html::html_escape);
    let mut kinds: Vec<ExpectationKind> = d.meta.expectations.iter().map(|e| e.kind).collect();
    kinds.sort();
    kinds.dedup();
    html! {
        li.hit {
            h3 { (link_or_text(&d.url, &title)) }
            p.url { (d.url) }
            p.meta {
                (c.time(d.published)) " · " (d.source)
                @if let Some(a) = &d.meta.author { " · " (c.ui.by) " " (a) }
                " · " (d.lang)
                " · " span class=(d.sentiment.label.as_str()) { (label_word(c.ui, d.sentiment.label)) }
                @if !d.brands.is_empty() { " · " (d.brands.join(", ")) }
                @for k in &kinds { " · " span.kind { (kind_word(c.ui, *k)) } }
                @if let Some(o) = &d.dup_of { " · " (c.ui.copy_of) " " (link_or_text(o, o)) }
            }
            // the snippet is escaped text with <mark> around the matched words
            p.snippet { (PreEscaped(snippet)) }
            @if !copies.is_empty() || !d.meta.also_seen.is_empty() {
                details.copies {
                    summary { (c.w.number(copies.len().max(d.meta.also_seen.len()))) " " (c.ui.copies) }
                    ul {
                        @for cp in copies { li { (link_or_text(&cp.doc.url, &cp.doc.url)) " · " (c.time(cp.doc.published)) } }
                        @for u in d.meta.also_seen.iter().filter(|u| !copies.iter().any(|cp| &cp.doc.url == *u)) {
                            li { (link_or_text(u, u)) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn search(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Query<SearchParams>,
) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    let ui = c.ui;
    let s = match p.search(&app.config, crate::serve::params::DEFAULT_LIMIT) {
        Ok(s) => s,
        Err(e) => return error_page(&c, StatusCode::BAD_REQUEST, &e),
    };
    let page_no = s.page;
    let limit = s.limit;
    let result = match app.reader() {
        None => None,
        Some(reader) => {
            let r = blocking(move || {
                let (total, hits) = run_search(&reader, &s)?;
                let facets = reader.facets(
                    &s.query,
                    &s.filters,
                    &["brands", "source", "lang", "label", "expectations"],
                )?;
                Ok::<_, crate::index::search::SearchError>((total, hits, facets))
            })
            .await;
            match r {
                Ok(x) => Some(x),
                Err(e) => return error_page(&c, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
    };
    let brands: Vec<(String, String)> = app
        .config
        .watches
        .iter()
        .flat_map(|w| &w.brands)
        .map(|b| (b.id.clone(), b.name.clone()))
        .collect();
    let brand_name = |id: &str| {
        brands
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let val = |o: &Option<String>| o.clone().unwrap_or_default();
    let sel = |o: &Option<String>, v: &str| o.as_deref() == Some(v);
    let export: Vec<(&str, String)> = search_params_with(&p, "page", "")
        .into_iter()
        .filter(|(k, _)| *k != "limit")
        .collect();
    let body = html! {
        form.search method="get" action="/search" {
            input type="search" name="q" value=(val(&p.q)) aria-label=(ui.search) placeholder="panne OR \"service client\"" autofocus;
            select name="brand" aria-label=(ui.brand) {
                option value="" { (ui.brand) " : " (ui.any) }
                @for (id, name) in &brands { option value=(id) selected[sel(&p.brand, id)] { (name) } }
            }
            select name="sentiment" aria-label=(ui.sentiment) {
                option value="" { (ui.sentiment) " : " (ui.any) }
                @for l in [Label::Negative, Label::Neutral, Label::Positive] {
                    option value=(l.as_str()) selected[sel(&p.sentiment, l.as_str())] { (label_word(ui, l)) }
                }
            }
            select name="expectation" aria-label=(ui.expectation) {
                option value="" { (ui.expectation) " : " (ui.any) }
                @for k in [ExpectationKind::Request, ExpectationKind::Complaint, ExpectationKind::Wish] {
                    option value=(k.as_str()) selected[sel(&p.expectation, k.as_str())] { (kind_word(ui, k)) }
                }
            }
            input type="text" name="since" value=(val(&p.since)) placeholder="7d" size="10" aria-label=(ui.since);
            input type="text" name="until" value=(val(&p.until)) placeholder="2026-12-01" size="10" aria-label=(ui.until);
            input type="text" name="lang" value=(val(&p.lang)) placeholder="fr" size="3" aria-label=(ui.language);
            @if let Some(src) = &p.source { input type="hidden" name="source" value=(src); }
            @if let Some(hl) = c.hl { input type="hidden" name="hl" value=(hl); }
            button type="submit" { (ui.search_button) }
        }
        @match &result {
            None => p { (ui.no_index) },
            Some((total, hits, facets)) => {
                div.results {
                    aside.facets {
                        h3 { (ui.facets) }
                        @for (key, values) in facets {
                            @let title = match key.as_str() { "brands" => ui.brand, "source" => ui.source, "lang" => ui.language, "label" => ui.sentiment, _ => ui.expectation };
                            (facet_links(&c, &p, key, title, values, &|v: &str| match key.as_str() {
                                "brands" => brand_name(v),
                                "label" => Label::parse(v).map(|l| label_word(ui, l).to_string()).unwrap_or_else(|| v.to_string()),
                                "expectations" => ExpectationKind::parse(v).map(|k| kind_word(ui, k).to_string()).unwrap_or_else(|| v.to_string()),
                                _ => v.to_string(),
                            }))
                        }
                    }
                    section.hits {
                        p.total {
                            strong { (c.w.number(*total)) } " " (ui.results)
                            " · " a href=(c.href("/export.csv", &export.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())) { (ui.export) }
                        }
                        @if hits.is_empty() {
                            p { (ui.no_result) }
                        } @else {
                            ol.hits start=((page_no - 1) * limit + 1) {
                                @for h in hits.iter().filter(|h| h.doc.dup_of.as_ref().is_none_or(|o| !hits.iter().any(|x| &x.doc.key == o || &x.doc.url == o))) {
                                    @let copies: Vec<&Hit> = hits.iter().filter(|x| x.doc.dup_of.as_ref().is_some_and(|o| *o == h.doc.key || *o == h.doc.url)).collect();
                                    (hit_markup(&c, h, &copies))
                                }
                            }
                        }
                        @let pages = total.div_ceil(limit).max(1);
                        @if pages > 1 {
                            nav.pages {
                                @if page_no > 1 {
                                    @let prev = (page_no - 1).to_string();
                                    a rel="prev" href=(c.href("/search", &search_params_with(&p, "page", &prev).iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())) { "← " (ui.previous) }
                                    " "
                                }
                                span { (ui.page) " " (page_no) " / " (pages) }
                                @if page_no < pages {
                                    @let next = (page_no + 1).to_string();
                                    " "
                                    a rel="next" href=(c.href("/search", &search_params_with(&p, "page", &next).iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())) { (ui.next) " →" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(page(&c, ui.search, body))
}

// ---------------------------------------------------------------- queue

pub async fn queue(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Query<QueueParams>,
) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    let ui = c.ui;
    let Some(reader) = app.reader() else {
        return html_response(page(&c, ui.queue, html! { p { (ui.no_index) } }));
    };
    let a = app.clone();
    let pp = QueueParams {
        limit: p.limit.clone(),
        page: p.page.clone(),
        state: p.state.clone(),
        brand: p.brand.clone(),
        since: p.since.clone(),
        hl: None,
    };
    let r = blocking(move || {
        let (items, all) = queue_items(&a, &reader, &pp)?;
        let times = crate::serve::queue::response_times(&a.config, &all);
        let (total, items, page) = queue_page(&pp, items, 100)?;
        Ok::<_, String>((total, items, page, times))
    })
    .await;
    let (total, items, page_no, times) = match r {
        Ok(x) => x,
        Err(e) => return error_page(&c, StatusCode::BAD_REQUEST, &e),
    };
    let now = Utc::now();
    let state = p.state.clone().unwrap_or_else(|| "open".into());
    let since = p.since.clone().unwrap_or_else(|| DEFAULT_SINCE.into());
    let back = uri
        .path_and_query()
        .map(|x| x.as_str().to_string())
        .unwrap_or_else(|| "/queue".into());
    let body = html! {
        h2 { (ui.response_time) }
        table.times {
            thead { tr { th { (ui.brand) } th.num { (ui.open) } th.num { (ui.answered) } th.num { (ui.dismissed) } th.num { (ui.median) } th.num { (ui.p90) } } }
            tbody {
                @for t in &times {
                    tr {
                        td { (t.brand_name) }
                        td.num { (c.w.number(t.open)) }
                        td.num { (c.w.number(t.answered)) }
                        td.num { (c.w.number(t.dismissed)) }
                        td.num { @if let Some(h) = t.median_hours { (c.hours(h)) } @else { "—" } }
                        td.num { @if let Some(h) = t.p90_hours { (c.hours(h)) } @else { "—" } }
                    }
                }
            }
        }
        (period_links(&c, "/queue", &since, &[("state", state.as_str())]))
        nav.tabs {
            @for (s, label) in [("open", ui.open), ("answered", ui.answered), ("dismissed", ui.dismissed), ("all", ui.all)] {
                @if state == s {
                    strong { (label) } " "
                } @else {
                    a href=(c.href("/queue", &[("state", s), ("since", since.as_str())])) { (label) } " "
                }
            }
        }
        p.total { strong { (c.w.number(total)) } }
        @if items.is_empty() {
            p { (ui.queue_empty) }
        } @else {
            ol.queue {
                @for i in &items {
                    li.item id=(format!("q-{}", i.id)) data-state=(i.state.as_str()) {
                        div.head {
                            span.urgency title=(ui.urgency) { (i.urgency) }
                            " " strong { (i.brand_name) }
                            " · " span.kind { (kind_word(ui, i.kind)) }
                            " · " (ui.by) " " (i.author.as_deref().unwrap_or("?"))
                            " · " (ui.waiting_since) " " (c.age(i.published, now))
                            @for r in &i.reasons { " " span.reason { (reason_word(ui, *r)) } }
                        }
                        blockquote { (i.quote) }
                        p.link { (link_or_text(&i.url, &i.url)) " · " (c.time(i.published)) " · " em { (i.cue) } }
                        @if i.state != QState::Open {
                            p.closed {
                                (match i.state { QState::Answered => ui.answered, _ => ui.dismissed })
                                @if let Some(t) = i.closed_at { " · " (c.time(t)) }
                                @if i.closed_by.as_deref() == Some("brand") { " · " (ui.answered_by_brand) } @else { " · " (ui.answered_by_team) }
                            }
                        }
                        div.actions {
                            @for (s, label) in [(QState::Answered, ui.mark_answered), (QState::Dismissed, ui.mark_dismissed), (QState::Open, ui.reopen)] {
                                @if s != i.state {
                                    form.js-write method="post" action=(format!("/queue/{}", i.id)) data-api=(format!("/api/queue/{}", i.id)) data-field="state" {
                                        input type="hidden" name="csrf" value=(c.csrf);
                                        input type="hidden" name="back" value=(back);
                                        input type="hidden" name="state" value=(s.as_str());
                                        button type="submit" { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @let limit = p.limit.as_deref().and_then(|l| l.parse::<usize>().ok()).unwrap_or(100).max(1);
            @let pages = total.div_ceil(limit).max(1);
            @if pages > 1 {
                nav.pages {
                    @if page_no > 1 { a rel="prev" href=(c.href("/queue", &[("state", state.as_str()), ("since", since.as_str()), ("page", (page_no - 1).to_string().as_str())])) { "← " (ui.previous) } " " }
                    span { (ui.page) " " (page_no) " / " (pages) }
                    @if page_no < pages { " " a rel="next" href=(c.href("/queue", &[("state", state.as_str()), ("since", since.as_str()), ("page", (page_no + 1).to_string().as_str())])) { (ui.next) " →" } }
                }
            }
        }
    };
    html_response(page(&c, ui.queue, body))
}

// ---------------------------------------------------------------- alerts

pub async fn alerts(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Query<AlertsParams>,
) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    let ui = c.ui;
    let Some(reader) = app.reader() else {
        return html_response(page(&c, ui.alerts, html! { p { (ui.no_index) } }));
    };
    let since = p.since.clone().unwrap_or_else(|| ALERTS_SINCE.into());
    let a = app.clone();
    let list = match blocking(move || alerts_json(&a, &reader, &p)).await {
        Ok(l) => l,
        Err(crate::serve::app::DigestError::Period(e)) => {
            return error_page(&c, StatusCode::BAD_REQUEST, &e)
        }
        Err(e) => return error_page(&c, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let back = uri
        .path_and_query()
        .map(|x| x.as_str().to_string())
        .unwrap_or_else(|| "/alerts".into());
    let body = html! {
        (period_links(&c, "/alerts", &since, &[]))
        @if list.is_empty() {
            p { (ui.no_alert) }
        } @else {
            ol.alerts {
                @for (a, verdict) in list.iter().rev() {
                    li.alert id=(format!("a-{}", a.id)) {
                        h3 { (crate::digest::words::capitalised(&crate::digest::summary::alert_phrase(c.w, a))) }
                        p.meta {
                            (c.time(a.at)) " · " (a.watch)
                            " · " (ui.score) " " (format!("{:.1}", a.score))
                            @if let Some(s) = &a.scale { " · " (s) }
                            @if !a.terms.is_empty() { " · " strong { (a.terms.join(", ")) } }
                        }
                        p { (a.message) }
                        @if !a.evidence.is_empty() {
                            details open {
                                summary { (ui.evidence) " (" (a.evidence.len()) ")" }
                                ul { @for u in a.evidence.iter().take(20) { li { (link_or_text(u, u)) } } }
                            }
                        }
                        div.actions {
                            span { (ui.verdict) " : " @match verdict.as_deref() { Some("useful") => strong { (ui.useful) }, Some("noise") => strong { (ui.noise) }, _ => "—" } }
                            @for (v, label) in [("useful", ui.useful), ("noise", ui.noise)] {
                                form.js-write method="post" action=(format!("/alerts/{}/verdict", a.id)) data-api=(format!("/api/alerts/{}/verdict", a.id)) data-field="verdict" {
                                    input type="hidden" name="csrf" value=(c.csrf);
                                    input type="hidden" name="back" value=(back);
                                    input type="hidden" name="verdict" value=(v);
                                    button type="submit" { (label) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(page(&c, ui.alerts, body))
}

// ---------------------------------------------------------------- sources

pub async fn sources(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    let ui = c.ui;
    let a = app.clone();
    let (health, counts) = blocking(move || {
        let counts: Vec<(String, u64)> = a
            .reader()
            .and_then(|r| {
                r.facets(
                    &crate::analyze::query::Query::All,
                    &Default::default(),
                    &["source"],
                )
                .ok()
            })
            .and_then(|mut f| f.pop())
            .map(|(_, v)| v)
            .unwrap_or_default();
        (a.health(), counts)
    })
    .await;
    let now = Utc::now().timestamp();
    let at = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .map(|t| c.time(t))
            .unwrap_or_default()
    };
    let body = html! {
        @if health.is_none() { p.note { (ui.health_unknown) } }
        table.sources {
            thead { tr {
                th { (ui.source) } th { (ui.kind) } th { (ui.address) } th { (ui.tags) } th { (ui.interval) }
                th.num { (ui.documents) } th { (ui.status) } th { (ui.last_poll) } th { (ui.last_success) } th { (ui.errors) }
            } }
            tbody {
                @for s in &app.config.sources.sources {
                    @let h = health.as_ref().and_then(|h| h.get(&s.id));
                    tr {
                        td { strong { (s.id) } @if let Some(n) = &s.name { br; small { (n) } } }
                        td { (format!("{:?}", s.kind).to_lowercase()) }
                        td.url { (s.url.as_str()) }
                        td { (s.tags.join(", ")) }
                        td { (format!("{} min", s.interval.as_secs() / 60)) }
                        td.num { (c.w.number(counts.iter().find(|(k, _)| *k == s.id).map(|(_, n)| *n as usize).unwrap_or(0))) }
                        @match h {
                            None => {
                                td { @if health.is_some() { (ui.never_polled) } @else { "—" } }
                                td { "—" } td { "—" } td { "—" }
                            }
                            Some(h) => {
                                td {
                                    @if h.not_before.is_some_and(|t| t > now) { span.warn { (ui.backing_off) } }
                                    @else if h.failures > 0 { span.neg { (ui.failing) } }
                                    @else { span.pos { (ui.healthy) } }
                                }
                                td { (at(h.last_attempt)) }
                                td { @if let Some(t) = h.last_success { (at(t)) } @else { "—" } }
                                td {
                                    @if h.failures > 0 { (h.failures) " · " }
                                    @if let Some(e) = &h.last_error { small { (e) } }
                                    @if !h.problems.is_empty() {
                                        details { summary { (ui.problems) " (" (h.problems.len()) ")" } ul { @for p in &h.problems { li { (p) } } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(page(&c, ui.sources, body))
}

// ---------------------------------------------------------------- login

#[derive(Debug, Default, Deserialize)]
pub struct LoginParams {
    pub next: Option<String>,
    pub hl: Option<String>,
}

fn login_page(c: &Ctx, next: &str, wrong: bool) -> Markup {
    page(
        c,
        c.ui.login,
        html! {
            p { (c.ui.login_intro) }
            @if wrong { p.error { (c.ui.wrong_token) } }
            form.login method="post" action="/login" {
                input type="hidden" name="csrf" value=(c.csrf);
                input type="hidden" name="next" value=(next);
                label { (c.ui.token) " " input type="password" name="token" autocomplete="current-password" required autofocus; }
                button type="submit" { (c.ui.login) }
            }
        },
    )
}

pub async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Query<LoginParams>,
) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    if app.security.token.is_none() {
        return Redirect::to("/").into_response();
    }
    html_response(login_page(&c, p.next.as_deref().unwrap_or("/"), false))
}

fn local_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".into()
    }
}

pub async fn login_post(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    let Some(token) = &app.security.token else {
        return Redirect::to("/").into_response();
    };
    let mut given = String::new();
    let mut next = "/".to_string();
    let mut csrf = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "token" => given = v.into_owned(),
            "next" => next = v.into_owned(),
            "csrf" => csrf = Some(v.into_owned()),
            _ => {}
        }
    }
    if !write_allowed(&app, &headers, csrf.as_deref()) || !same_secret(given.trim(), token) {
        let mut r = html_response(login_page(&c, &next, true));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    }
    let session = crate::serve::app::random_token();
    app.security
        .sessions
        .lock()
        .expect("sessions lock")
        .insert(session.clone());
    let mut r = Redirect::to(&local_path(&next)).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict")
            .parse()
            .expect("a cookie header"),
    );
    r
}

pub async fn logout(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let csrf = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    if !write_allowed(&app, &headers, csrf.as_deref()) {
        return (
            StatusCode::FORBIDDEN,
            "this write needs the page's CSRF token\n",
        )
            .into_response();
    }
    if let Some(s) = crate::serve::security::cookie(&headers, SESSION_COOKIE) {
        app.security
            .sessions
            .lock()
            .expect("sessions lock")
            .remove(s);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
            .parse()
            .expect("a cookie header"),
    );
    r
}

// ---------------------------------------------------------------- static

pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/serve/vigie.css"),
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/serve/vigie.js"),
    )
        .into_response()
}

pub async fn not_found(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Response {
    let c = Ctx::new(&app, &headers, &uri);
    error_page(&c, StatusCode::NOT_FOUND, "404")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_become_links() {
        assert!(safe_href("https://a.example/x?y=1").is_some());
        assert!(safe_href("JaVaScRiPt:alert(1)").is_none());
        assert!(safe_href(" javascript:alert(1)").is_none());
        assert!(safe_href("data:text/html,<script>").is_none());
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("/queue"), "/queue");
    }
}
