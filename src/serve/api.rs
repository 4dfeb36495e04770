//! The JSON API, the CSV export and the metrics: the command line's own objects (one
//! serializer, two doors), and the writes of the queue and of alert verdicts.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use crate::index::search::{Hit, Reader, SearchError, MAX_CHECKED};
use crate::serve::app::{App, DigestError};
use crate::serve::metrics::Gauge;
use crate::serve::params::{Search, SearchParams, MAX_LIMIT};
use crate::serve::queue::{QState, QueueItem, DEFAULT_SINCE};
use crate::serve::security::write_allowed;

/// How far back `/api/alerts` and the alerts page look without `since` (as `vigie alerts`).
pub const ALERTS_SINCE: &str = "7d";

/// A 4xx answer with what was wrong, as JSON.
pub fn problem(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": msg.into()}))).into_response()
}

/// A failure inside: logged, and said without details.
pub fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "workspace request failed");
    problem(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}"))
}

/// Runs blocking index work off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a workspace task panicked")
}

/// A search's page of hits and how many documents match in all.
///
/// A NEAR between single words is answered by the index, and so is the count. A NEAR with a
/// phrase of several words on one side is checked on the text of the candidates
/// ([`Query::needs_check`](crate::analyze::query::Query::needs_check)): then only the best
/// [`MAX_CHECKED`] candidates are read, the total counts the matches among them (a lower
/// bound when more documents hold the words), and the pages end there.
pub fn run_search(reader: &Reader, s: &Search) -> Result<(usize, Vec<Hit>), SearchError> {
    let offset = (s.page - 1).saturating_mul(s.limit);
    let want = offset.saturating_add(s.limit);
    let (total, hits) = reader.search_checked(&s.query, &s.filters, want, MAX_CHECKED)?;
    Ok((total, hits.into_iter().skip(offset).collect()))
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn api_search(State(app): State<Arc<App>>, Query(p): Query<SearchParams>) -> Response {
    let s = match p.search(&app.config, crate::serve::params::DEFAULT_LIMIT) {
        Ok(s) => s,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e),
    };
    let Some(reader) = app.reader() else {
        return axum::Json(json!({"total": 0, "hits": []})).into_response();
    };
    match blocking(move || run_search(&reader, &s).map(|r| (r, s.page))).await {
        Ok(((total, hits), page)) => {
            let hits: Vec<serde_json::Value> = hits.iter().map(Hit::to_json).collect();
            axum::Json(json!({"total": total, "page": page, "hits": hits})).into_response()
        }
        Err(e) => internal(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DigestParams {
    pub watch: Option<String>,
    pub since: Option<String>,
    pub hl: Option<String>,
}

pub async fn api_digest(State(app): State<Arc<App>>, Query(p): Query<DigestParams>) -> Response {
    let Some(watch) = app.watch(p.watch.as_deref()).cloned() else {
        let names: Vec<&str> = app.config.watches.iter().map(|w| w.name.as_str()).collect();
        return problem(
            StatusCode::NOT_FOUND,
            match &p.watch {
                Some(w) => format!("no watch named {w:?} (watches: {})", names.join(", ")),
                None => "no watch configured (pipelines/NAME.toml)".into(),
            },
        );
    };
    let Some(reader) = app.reader() else {
        return problem(
            StatusCode::NOT_FOUND,
            "no index yet: run `vigie ingest FILE` or `vigie run` first",
        );
    };
    let a = app.clone();
    let r = blocking(move || {
        let d = a.digest(&reader, &watch, p.since.as_deref(), None)?;
        Ok::<_, DigestError>(
            crate::digest::render_as(&d, &watch, crate::digest::Format::Json)
                .expect("a JSON digest always renders"),
        )
    })
    .await;
    match r {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(DigestError::Period(e)) => problem(StatusCode::BAD_REQUEST, e),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AlertsParams {
    pub since: Option<String>,
    pub watch: Option<String>,
    pub hl: Option<String>,
}

/// The alerts of the period, newest last, as `vigie alerts --json` gives them, each with the
/// team's verdict when there is one.
pub fn alerts_json(
    app: &App,
    reader: &Reader,
    p: &AlertsParams,
) -> Result<Vec<(crate::alert::Alert, Option<String>)>, DigestError> {
    let since = crate::serve::params::when(
        "since",
        p.since
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(ALERTS_SINCE),
        chrono::Utc::now(),
    )
    .map_err(DigestError::Period)?;
    let alerts = crate::alert::read_alerts(reader, Some(since), None, p.watch.as_deref())?;
    Ok(alerts
        .into_iter()
        .map(|a| {
            let v = app.feedback_ledger.get(&a.id).map(|e| e.value);
            (a, v)
        })
        .collect())
}

pub async fn api_alerts(State(app): State<Arc<App>>, Query(p): Query<AlertsParams>) -> Response {
    let Some(reader) = app.reader() else {
        return axum::Json(json!({"alerts": []})).into_response();
    };
    let a = app.clone();
    match blocking(move || alerts_json(&a, &reader, &p)).await {
        Ok(list) => {
            let alerts: Vec<serde_json::Value> = list
                .into_iter()
                .map(|(a, verdict)| {
                    let mut v = serde_json::to_value(&a).expect("alerts serialise");
                    if let Some(x) = verdict {
                        v["verdict"] = json!(x);
                    }
                    v
                })
                .collect();
            axum::Json(json!({"alerts": alerts})).into_response()
        }
        Err(DigestError::Period(e)) => problem(StatusCode::BAD_REQUEST, e),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueParams {
    pub limit: Option<String>,
    pub page: Option<String>,
    pub state: Option<String>,
    pub brand: Option<String>,
    pub since: Option<String>,
    pub hl: Option<String>,
}

/// Which states a listing shows: `None` for all.
pub fn states(p: &QueueParams) -> Result<Option<QState>, String> {
    match p.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Some(QState::Open)),
        Some("all") => Ok(None),
        Some(s) => QState::parse(s)
            .map(Some)
            .ok_or_else(|| format!("state {s:?}: expected open, answered, dismissed or all")),
    }
}

/// The queue's items for these parameters, and every item of the period (for the figures).
pub fn queue_items(
    app: &App,
    reader: &Reader,
    p: &QueueParams,
) -> Result<(Vec<QueueItem>, Arc<Vec<QueueItem>>), String> {
    let state = states(p)?;
    let brand = p
        .brand
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| crate::serve::params::brand(&app.config, b))
        .transpose()?;
    let since = p
        .since
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_SINCE)
        .to_string();
    let all = app.queue(reader, &since).map_err(|e| e.to_string())?;
    let items = all
        .iter()
        .filter(|i| state.is_none_or(|s| i.state == s))
        .filter(|i| brand.as_ref().is_none_or(|b| &i.brand == b))
        .cloned()
        .collect();
    Ok((items, all))
}

fn limit_of(p: &QueueParams, default: usize) -> Result<(usize, usize), String> {
    let limit = match p.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("limit {s:?}: expected a number from 1"))?
            .min(MAX_LIMIT),
    };
    let page = match p.page.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("page {s:?}: expected a number from 1"))?,
    };
    Ok((limit, page))
}

/// A page of the queue.
pub fn queue_page(
    p: &QueueParams,
    items: Vec<QueueItem>,
    default: usize,
) -> Result<(usize, Vec<QueueItem>, usize), String> {
    let (limit, page) = limit_of(p, default)?;
    let total = items.len();
    Ok((
        total,
        items
            .into_iter()
            .skip((page - 1).saturating_mul(limit))
            .take(limit)
            .collect(),
        page,
    ))
}

pub async fn api_queue(State(app): State<Arc<App>>, Query(p): Query<QueueParams>) -> Response {
    let Some(reader) = app.reader() else {
        return axum::Json(json!({"items": [], "total": 0})).into_response();
    };
    let a = app.clone();
    let r = blocking(move || {
        let (items, all) = queue_items(&a, &reader, &p)?;
        let times = crate::serve::queue::response_times(&a.config, &all);
        let (total, page, _) = queue_page(&p, items, 100)?;
        Ok::<_, String>((total, page, times))
    })
    .await;
    match r {
        Ok((total, items, times)) => axum::Json(json!({
            "total": total,
            "items": items,
            "response_times": times,
        }))
        .into_response(),
        Err(e) => problem(StatusCode::BAD_REQUEST, e),
    }
}

/// A write's fields, from a JSON or a form body.
struct WriteBody {
    value: Option<String>,
    csrf: Option<String>,
    back: Option<String>,
    form: bool,
}

fn read_body(headers: &HeaderMap, body: &Bytes, field: &str) -> Result<WriteBody, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        let mut w = WriteBody {
            value: None,
            csrf: None,
            back: None,
            form: true,
        };
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                k if k == field => w.value = Some(v.into_owned()),
                "csrf" => w.csrf = Some(v.into_owned()),
                "back" => w.back = Some(v.into_owned()),
                _ => {}
            }
        }
        return Ok(w);
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not JSON {{\"{field}\": …}}: {e}"))?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Ok(WriteBody {
        value: s(field),
        csrf: s("csrf"),
        back: None,
        form: false,
    })
}

/// Where a form write goes back to: a path of this server only.
fn back_to(back: Option<&str>, default: &str) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b.to_string(),
        _ => default.to_string(),
    }
}

pub async fn post_queue(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let w = match read_body(&headers, &body, "state") {
        Ok(w) => w,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e),
    };
    if !write_allowed(&app, &headers, w.csrf.as_deref()) {
        return problem(StatusCode::FORBIDDEN, "this write needs the page's CSRF token (X-CSRF-Token) and must come from this workspace");
    }
    let Some(state) = w.value.as_deref().and_then(QState::parse) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "state: expected answered, dismissed or open",
        );
    };
    let Some(reader) = app.reader() else {
        return problem(StatusCode::NOT_FOUND, "no queue item of that id");
    };
    let a = app.clone();
    let known = {
        let id = id.clone();
        blocking(move || {
            a.queue(&reader, "90d")
                .map(|all| all.iter().any(|i| i.id == id))
                .unwrap_or(false)
        })
        .await
    };
    if !known {
        return problem(StatusCode::NOT_FOUND, format!("no queue item {id:?}"));
    }
    match app.queue_ledger.set(&id, state.as_str()) {
        Ok(e) => {
            app.metrics
                .decisions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if w.form {
                Redirect::to(&back_to(w.back.as_deref(), "/queue")).into_response()
            } else {
                axum::Json(json!({"id": id, "state": state, "at": e.at})).into_response()
            }
        }
        Err(e) => internal(e),
    }
}

pub async fn post_alert_verdict(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let w = match read_body(&headers, &body, "verdict") {
        Ok(w) => w,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e),
    };
    if !write_allowed(&app, &headers, w.csrf.as_deref()) {
        return problem(StatusCode::FORBIDDEN, "this write needs the page's CSRF token (X-CSRF-Token) and must come from this workspace");
    }
    let verdict = match w.value.as_deref().map(str::trim) {
        Some(v @ ("useful" | "noise")) => v.to_string(),
        _ => return problem(StatusCode::BAD_REQUEST, "verdict: expected useful or noise"),
    };
    let Some(reader) = app.reader() else {
        return problem(StatusCode::NOT_FOUND, "no alert of that id");
    };
    let known = {
        let id = id.clone();
        blocking(move || {
            crate::alert::read_alerts(&reader, None, None, None)
                .map(|all| all.iter().any(|a| a.id == id))
                .unwrap_or(false)
        })
        .await
    };
    if !known {
        return problem(StatusCode::NOT_FOUND, format!("no alert {id:?}"));
    }
    match app.feedback_ledger.set(&id, &verdict) {
        Ok(e) => {
            app.metrics
                .decisions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if w.form {
                Redirect::to(&back_to(w.back.as_deref(), "/alerts")).into_response()
            } else {
                axum::Json(json!({"id": id, "verdict": verdict, "at": e.at})).into_response()
            }
        }
        Err(e) => internal(e),
    }
}

/// One CSV field: quoted when it must be, and a leading `=`, `+`, `-`, `@` (a formula to a
/// spreadsheet) defused with an apostrophe.
fn csv_field(s: &str, out: &mut String) {
    let defuse = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs = defuse || s.contains([',', '"', '\n', '\r']);
    if needs {
        out.push('"');
        if defuse {
            out.push('\'');
        }
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The CSV of hits: `url,title,published,source,author,lang,brands,sentiment,expectations`.
pub fn csv(hits: &[Hit]) -> String {
    let mut out =
        String::from("url,title,published,source,author,lang,brands,sentiment,expectations\r\n");
    for h in hits {
        let d = &h.doc;
        let kinds = d.expectation_kinds();
        let fields = [
            d.url.clone(),
            crate::doc::headline(&d.title, &d.content),
            d.published
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            d.source.clone(),
            d.meta.author.clone().unwrap_or_default(),
            d.lang.clone(),
            d.brands.join(";"),
            d.sentiment.label.as_str().to_string(),
            kinds.join(";"),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(f, &mut out);
        }
        out.push_str("\r\n");
    }
    out
}

pub async fn export_csv(State(app): State<Arc<App>>, Query(p): Query<SearchParams>) -> Response {
    let s = match p.search(&app.config, MAX_LIMIT) {
        Ok(s) => s,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e),
    };
    let body = match app.reader() {
        None => csv(&[]),
        Some(reader) => match blocking(move || run_search(&reader, &s)).await {
            Ok((_, hits)) => csv(&hits),
            Err(e) => return internal(e),
        },
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"vigie-search.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn api_status(State(app): State<Arc<App>>) -> Response {
    let Some(reader) = app.reader() else {
        return axum::Json(json!({"documents": 0, "generation": 0})).into_response();
    };
    let r = blocking(move || {
        reader
            .count(None, &Default::default())
            .map(|n| (n, crate::serve::app::generation(&reader)))
    })
    .await;
    match r {
        Ok((n, g)) => axum::Json(json!({"documents": n, "generation": g})).into_response(),
        Err(e) => internal(e),
    }
}

pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let a = app.clone();
    let gauges = blocking(move || {
        let mut g = Vec::new();
        if let Some(reader) = a.reader() {
            let docs = reader.count(None, &Default::default()).unwrap_or(0);
            g.push(Gauge {
                name: "vigie_documents",
                help: "Documents in the index.",
                values: vec![(vec![], docs as f64)],
            });
            let alerts = crate::alert::read_alerts(&reader, None, None, None)
                .map(|a| a.len())
                .unwrap_or(0);
            g.push(Gauge {
                name: "vigie_alerts",
                help: "Alerts recorded in the index.",
                values: vec![(vec![], alerts as f64)],
            });
            if let Ok(items) = a.queue(&reader, DEFAULT_SINCE) {
                let n = |s: QState| items.iter().filter(|i| i.state == s).count() as f64;
                g.push(Gauge {
                    name: "vigie_queue_items",
                    help: "Answer queue items of the last 14 days, by state.",
                    values: [QState::Open, QState::Answered, QState::Dismissed]
                        .into_iter()
                        .map(|s| (vec![("state", s.as_str().to_string())], n(s)))
                        .collect(),
                });
            }
        }
        // source health from the crawl of this process only (reading the data directory's
        // would hold it from a writer at every scrape)
        if let Some(h) = a.shared_health() {
            let mut fails = Vec::new();
            let mut ok = Vec::new();
            for (id, s) in &h {
                fails.push((vec![("source", id.clone())], s.failures as f64));
                if let Some(t) = s.last_success {
                    ok.push((vec![("source", id.clone())], t as f64));
                }
            }
            g.push(Gauge {
                name: "vigie_source_consecutive_failures",
                help: "Failed polls in a row, by source.",
                values: fails,
            });
            g.push(Gauge {
                name: "vigie_source_last_success_timestamp_seconds",
                help: "Last successful poll, by source.",
                values: ok,
            });
        }
        g
    })
    .await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(&gauges),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        let mut s = String::new();
        csv_field("a,b", &mut s);
        s.push('|');
        csv_field("say \"hi\"", &mut s);
        s.push('|');
        csv_field("=HYPERLINK(\"x\")", &mut s);
        s.push('|');
        csv_field("plain", &mut s);
        assert_eq!(
            s,
            "\"a,b\"|\"say \"\"hi\"\"\"|\"'=HYPERLINK(\"\"x\"\")\"|plain"
        );
    }

    #[test]
    fn searches_with_near_count_and_page_without_overflow() {
        use crate::analyze::lang::Lang;
        use crate::index::search::testing;
        let reader = testing::reader(&[
            ("I think its battery died.", Lang::En),
            ("I do not think that its price is fair.", Lang::En),
            ("Its screen, I still think, is fine.", Lang::En),
            ("Nothing to see here.", Lang::En),
            ("Le service client ne répond pas, panne totale.", Lang::Fr),
        ]);
        let search = |q: &str, limit: usize, page: usize| Search {
            text: q.to_string(),
            query: crate::analyze::query::Query::parse(q).unwrap(),
            filters: Default::default(),
            limit,
            page,
        };
        let urls = |hits: &[Hit]| {
            let mut u: Vec<String> = hits.iter().map(|h| h.doc.url.clone()).collect();
            u.sort();
            u
        };
        let (total, hits) = run_search(&reader, &search("think NEAR/5 its", 10, 1)).unwrap();
        assert_eq!(total, 3);
        assert_eq!(
            urls(&hits),
            ["https://e.org/0", "https://e.org/1", "https://e.org/2"]
        );
        let (total, hits) = run_search(&reader, &search("think NEAR/1 its", 10, 1)).unwrap();
        assert_eq!(
            (total, urls(&hits)),
            (
                2,
                vec!["https://e.org/0".to_string(), "https://e.org/1".to_string()]
            )
        );
        // pages: the total stays, the hits are the page's
        let (total, hits) = run_search(&reader, &search("think NEAR/5 its", 2, 2)).unwrap();
        assert_eq!((total, hits.len()), (3, 1));
        // the largest page the parameters allow
        let (total, hits) =
            run_search(&reader, &search("think NEAR/5 its", MAX_LIMIT, 100_000)).unwrap();
        assert_eq!((total, hits.len()), (3, 0));
        // a phrase on a side: checked on the text
        let (total, hits) =
            run_search(&reader, &search("panne NEAR/3 \"service client\"", 10, 1)).unwrap();
        assert_eq!(
            (total, urls(&hits)),
            (1, vec!["https://e.org/4".to_string()])
        );
        let (total, hits) = run_search(
            &reader,
            &search("panne NEAR/3 \"service client\"", MAX_LIMIT, 100_000),
        )
        .unwrap();
        assert_eq!((total, hits.len()), (1, 0));
    }

    #[test]
    fn form_writes_go_back_home_only() {
        assert_eq!(
            back_to(Some("/queue?state=all"), "/queue"),
            "/queue?state=all"
        );
        assert_eq!(back_to(Some("//evil.example"), "/queue"), "/queue");
        assert_eq!(back_to(Some("https://evil.example"), "/queue"), "/queue");
    }
}
