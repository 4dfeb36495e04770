//! Who may read and write: loopback alone without a token; with `VIGIE_SERVE_TOKEN`, every
//! route but `/healthz`, the login page and the static files needs `Authorization: Bearer
//! TOKEN` or the session cookie the login page gives. Every write carries the page's CSRF
//! token (header `X-CSRF-Token` or a form field `csrf`) and, when the browser says where it
//! comes from, comes from this server. Every answer gets a strict Content-Security-Policy (no
//! inline script, no inline style), `nosniff`, no framing, no referrer to other sites.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::serve::app::App;

/// The policy every page is sent with.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Longest request target accepted (path and query).
pub const MAX_URI: usize = 4096;
/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vigie_session";

/// Where to listen, refused when it is off this machine and no token guards it.
pub fn check_listen(listen: &str, token: Option<&str>) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| {
            format!("--listen {listen:?}: not an address (HOST:PORT, such as 127.0.0.1:7878): {e}")
        })?
        .collect();
    let addr = *addrs
        .first()
        .ok_or_else(|| format!("--listen {listen:?}: the name gives no address"))?;
    let public = addrs.iter().any(|a| !a.ip().is_loopback());
    if public && token.is_none_or(|t| t.trim().is_empty()) {
        return Err(format!(
            "refusing to listen on {listen} without VIGIE_SERVE_TOKEN: the workspace would be open to the network; set VIGIE_SERVE_TOKEN to a long random secret (every route but /healthz then needs it), or listen on 127.0.0.1"
        ));
    }
    Ok(addr)
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request carries the token or an open session.
pub fn authorised(app: &App, headers: &HeaderMap) -> bool {
    let Some(token) = &app.security.token else {
        return true;
    };
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return same_secret(bearer.trim(), token);
    }
    cookie(headers, SESSION_COOKIE).is_some_and(|s| {
        app.security
            .sessions
            .lock()
            .expect("sessions lock")
            .iter()
            .any(|k| same_secret(k, s))
    })
}

/// Whether a write may go on: the CSRF token (from the header or the form's field) is this
/// server's, and the browser's `Origin`, when it sends one, is this server.
pub fn write_allowed(app: &App, headers: &HeaderMap, field: Option<&str>) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let o = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if host.is_empty() || o != host {
            return false;
        }
    }
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .or(field);
    given.is_some_and(|t| same_secret(t.trim(), &app.security.csrf))
}

fn is_open_route(path: &str) -> bool {
    path == "/healthz" || path == "/login" || path.starts_with("/static/")
}

fn is_machine_route(path: &str) -> bool {
    path.starts_with("/api/") || path == "/export.csv" || path == "/metrics"
}

/// Every request: bounds, access, security headers, metrics.
pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let mut resp = if req.uri().to_string().len() > MAX_URI {
        (StatusCode::URI_TOO_LONG, "request target too long\n").into_response()
    } else if !is_open_route(&path) && !authorised(&app, req.headers()) {
        if is_machine_route(&path) || req.method() != axum::http::Method::GET {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"error": "this workspace needs its token: Authorization: Bearer TOKEN"})),
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vigie\""),
            );
            r
        } else {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            Redirect::to(&target).into_response()
        }
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !path.starts_with("/static/") {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    app.metrics.observe(
        &route,
        &method,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses_need_a_token() {
        assert!(check_listen("127.0.0.1:7878", None).is_ok());
        assert!(check_listen("[::1]:7878", None).is_ok());
        let e = check_listen("0.0.0.0:7878", None).unwrap_err();
        assert!(e.contains("VIGIE_SERVE_TOKEN"), "{e}");
        assert!(check_listen("0.0.0.0:7878", Some("s3cret")).is_ok());
        assert!(check_listen("0.0.0.0:7878", Some("  ")).is_err());
        assert!(check_listen("nonsense", None).is_err());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
