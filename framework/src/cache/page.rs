//! Whole responses in the cache: `#[cache_page]`, the per-site middleware pair, the response
//! header decorators and conditional GET, with Django's rules (`UpdateCacheMiddleware`,
//! `FetchFromCacheMiddleware`, `patch_cache_control`, `get_conditional_response`).
//!
//! Keys: a *header key* per URL holds the request headers the page varies on (from its `Vary`),
//! and the *page key* covers method, URL and those headers' values. A page of a view that
//! declares `depends_on` is stored with the generation number of each model, read with the page
//! in one round trip: saving or deleting a row of such a model increments its generation once
//! the transaction commits, and every page built from the old data stops being served, on every
//! server sharing the cache, at the cost of one `incr`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::body::{BoxBody, MessageBody as _};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue, HttpDate};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse};
use sha2::{Digest as _, Sha256};

use super::{Cache, CacheError, Expiry, Inner};
use crate::conf::{Section, Settings};
use crate::db::Model;
use crate::middleware::{Middleware, MiddlewareFuture, Next, ServiceRequest, ServiceResponse};

// ---- response headers ---------------------------------------------------------------------

/// One `Cache-Control` directive of `#[cache_control(...)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlDirective {
    /// A directive without a value: `public`, `no-cache`, `must-revalidate`, ...
    Flag(&'static str),
    /// A directive with seconds: `max-age=3600`, `s-maxage=60`, ...
    Seconds(&'static str, u64),
}

/// What a header decorator does to the view's response.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum HeaderOp {
    /// `#[never_cache]`.
    NeverCache,
    /// `#[cache_control(...)]`.
    CacheControl(&'static [ControlDirective]),
    /// `#[vary_on_cookie]`, `#[vary_on_headers(...)]`.
    Vary(&'static [&'static str]),
}

fn directives(headers: &HeaderMap) -> Vec<(String, Option<String>)> {
    headers
        .get_all(header::CACHE_CONTROL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return None;
            }
            Some(match part.split_once('=') {
                Some((name, value)) => (name.trim().to_ascii_lowercase(), Some(value.trim().to_owned())),
                None => (part.to_ascii_lowercase(), None),
            })
        })
        .collect()
}

/// Django's `patch_cache_control`: merges `new` into the response's `Cache-Control`. A
/// `max-age` already there wins when smaller; `private` and `public` exclude each other.
pub(crate) fn patch_cache_control(headers: &mut HeaderMap, new: &[(String, Option<String>)]) {
    let mut current = directives(headers);
    for (name, value) in new {
        let mut value = value.clone();
        if name == "max-age"
            && let Some((_, Some(old))) = current.iter().find(|(n, _)| n == "max-age")
            && let (Ok(old), Some(Ok(wanted))) = (old.parse::<u64>(), value.as_deref().map(str::parse::<u64>))
        {
            value = Some(old.min(wanted).to_string());
        }
        let excluded = match name.as_str() {
            "private" => Some("public"),
            "public" => Some("private"),
            _ => None,
        };
        current.retain(|(n, _)| n != name && Some(n.as_str()) != excluded);
        current.push((name.clone(), value));
    }
    let text: Vec<String> = current
        .into_iter()
        .map(|(name, value)| match value {
            Some(value) => format!("{name}={value}"),
            None => name,
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&text.join(", ")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
}

/// Django's `get_max_age`: the response's `max-age`, if it has a valid one.
fn max_age(headers: &HeaderMap) -> Option<u64> {
    directives(headers).into_iter().find(|(n, _)| n == "max-age").and_then(|(_, v)| v?.parse().ok())
}

/// Django's `patch_response_headers`: `Expires` (unless set) and `max-age` for `timeout` seconds.
fn patch_response_headers(headers: &mut HeaderMap, timeout: u64) {
    if !headers.contains_key(header::EXPIRES) {
        let expires = SystemTime::now() + Duration::from_secs(timeout);
        if let Ok(value) = HeaderValue::from_str(&HttpDate::from(expires).to_string()) {
            headers.insert(header::EXPIRES, value);
        }
    }
    patch_cache_control(headers, &[("max-age".into(), Some(timeout.to_string()))]);
}

/// Django's `add_never_cache_headers`.
pub(crate) fn add_never_cache_headers(headers: &mut HeaderMap) {
    patch_response_headers(headers, 0);
    let flags = ["no-cache", "no-store", "must-revalidate", "private"];
    patch_cache_control(headers, &flags.map(|f| (f.to_owned(), None)));
}

fn vary_names(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn add_vary(headers: &mut HeaderMap, name: &str) {
    if vary_names(headers).iter().any(|v| v.eq_ignore_ascii_case(name) || v == "*") {
        return;
    }
    if let Ok(value) = HeaderValue::from_str(name) {
        headers.append(header::VARY, value);
    }
}

/// Applies the header decorators of a view to its response.
#[doc(hidden)]
pub fn __response_headers(response: &mut HttpResponse, ops: &[HeaderOp]) {
    let headers = response.headers_mut();
    for op in ops {
        match op {
            HeaderOp::NeverCache => add_never_cache_headers(headers),
            HeaderOp::CacheControl(list) => {
                let new: Vec<(String, Option<String>)> = list
                    .iter()
                    .map(|d| match d {
                        ControlDirective::Flag(name) => ((*name).to_owned(), None),
                        ControlDirective::Seconds(name, seconds) => ((*name).to_owned(), Some(seconds.to_string())),
                    })
                    .collect();
                patch_cache_control(headers, &new);
            }
            HeaderOp::Vary(names) => names.iter().for_each(|name| add_vary(headers, name)),
        }
    }
}

// ---- conditional GET ----------------------------------------------------------------------

fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn header_text<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn etag_list(text: &str) -> Vec<&str> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).collect()
}

fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

fn http_date(text: Option<&str>) -> Option<SystemTime> {
    text?.parse::<HttpDate>().ok().map(SystemTime::from)
}

/// Django's `get_conditional_response`: 304 or 412 when the request's preconditions say so.
fn conditional_status(req: &HttpRequest, headers: &HeaderMap) -> Option<StatusCode> {
    let etag = header_text(headers, &header::ETAG);
    let last_modified = http_date(header_text(headers, &header::LAST_MODIFIED));
    let asked = req.headers();
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if let Some(if_match) = header_text(asked, &header::IF_MATCH) {
        let tags = etag_list(if_match);
        // Strong comparison: a weak tag never matches.
        let passes = match etag {
            None => false,
            Some(etag) => {
                !etag.starts_with("W/") && tags.iter().any(|t| *t == "*" || (!t.starts_with("W/") && *t == etag))
            }
        };
        if !passes {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    } else if let (Some(since), Some(modified)) =
        (http_date(header_text(asked, &header::IF_UNMODIFIED_SINCE)), last_modified)
        && modified > since
    {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    if let Some(if_none_match) = header_text(asked, &header::IF_NONE_MATCH) {
        let tags = etag_list(if_none_match);
        let matched = etag.is_some_and(|etag| tags.iter().any(|t| *t == "*" || strip_weak(t) == strip_weak(etag)));
        if matched {
            return Some(if safe { StatusCode::NOT_MODIFIED } else { StatusCode::PRECONDITION_FAILED });
        }
    } else if safe
        && let (Some(since), Some(modified)) =
            (http_date(header_text(asked, &header::IF_MODIFIED_SINCE)), last_modified)
        && modified <= since
    {
        return Some(StatusCode::NOT_MODIFIED);
    }
    None
}

/// The bodiless answer to a met precondition, keeping the headers a 304 must repeat.
fn precondition_response(status: StatusCode, headers: &HeaderMap) -> HttpResponse {
    let mut response = HttpResponse::new(status);
    if status == StatusCode::NOT_MODIFIED {
        let keep = [
            header::CACHE_CONTROL,
            header::CONTENT_LOCATION,
            header::DATE,
            header::ETAG,
            header::EXPIRES,
            header::LAST_MODIFIED,
            header::VARY,
            header::SET_COOKIE,
        ];
        for name in keep {
            for value in headers.get_all(&name) {
                response.headers_mut().append(name.clone(), value.clone());
            }
        }
    }
    response
}

/// `manouche.conditional_get`: Django's `ConditionalGetMiddleware`. A 200 answer to GET or HEAD
/// gets an `ETag` (a hash of its body) unless it has one; a request whose `If-None-Match` or
/// `If-Modified-Since` it satisfies gets a bodiless 304 instead (412 for a failed `If-Match` or
/// `If-Unmodified-Since`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConditionalGet;

impl Middleware for ConditionalGet {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            if !matches!(*req.method(), Method::GET | Method::HEAD) {
                return next.run(req).await;
            }
            let response = next.run(req).await;
            if response.status() != StatusCode::OK {
                return response;
            }
            let (request, response) = response.into_parts();
            let response = if response.headers().contains_key(header::ETAG) {
                response
            } else {
                let (head, body) = response.into_parts();
                match body.try_into_bytes() {
                    Ok(bytes) => {
                        let mut head = head.set_body(BoxBody::new(bytes.clone()));
                        if !bytes.is_empty()
                            && let Ok(tag) = HeaderValue::from_str(&etag_of(&bytes))
                        {
                            head.headers_mut().insert(header::ETAG, tag);
                        }
                        head
                    }
                    Err(body) => head.set_body(body),
                }
            };
            match conditional_status(&request, response.headers()) {
                Some(status) => ServiceResponse::new(request, precondition_response(status, response.headers())),
                None => ServiceResponse::new(request, response),
            }
        })
    }
}

// ---- stored pages -------------------------------------------------------------------------

const MAGIC: &[u8; 4] = b"MPC2";

/// A response as stored: the generations of the models it was built from, status, headers
/// without `Set-Cookie` (a cookie is never served to someone else), body.
fn encode_page(generations: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u16::try_from(generations.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(generations.as_bytes());
    out.extend_from_slice(&status.as_u16().to_be_bytes());
    let kept: Vec<(&HeaderName, &HeaderValue)> = headers.iter().filter(|(n, _)| **n != header::SET_COOKIE).collect();
    out.extend_from_slice(&u16::try_from(kept.len()).unwrap_or(u16::MAX).to_be_bytes());
    for (name, value) in kept.into_iter().take(usize::from(u16::MAX)) {
        let name = name.as_str().as_bytes();
        out.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&u32::try_from(value.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// The stored page, if it was built at `generations`.
fn decode_page(bytes: &[u8], generations: &str) -> Option<(StatusCode, HeaderMap, actix_web::web::Bytes)> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (len, rest) = rest.split_first_chunk::<2>()?;
    let (built, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes(*len)))?;
    if built != generations.as_bytes() {
        return None;
    }
    let (status, rest) = rest.split_first_chunk::<2>()?;
    let status = StatusCode::from_u16(u16::from_be_bytes(*status)).ok()?;
    let (count, mut rest) = rest.split_first_chunk::<2>()?;
    let mut headers = HeaderMap::new();
    for _ in 0..u16::from_be_bytes(*count) {
        let (len, tail) = rest.split_first_chunk::<2>()?;
        let (name, tail) = tail.split_at_checked(usize::from(u16::from_be_bytes(*len)))?;
        let (len, tail) = tail.split_first_chunk::<4>()?;
        let (value, tail) = tail.split_at_checked(usize::try_from(u32::from_be_bytes(*len)).ok()?)?;
        headers.append(HeaderName::from_bytes(name).ok()?, HeaderValue::from_bytes(value).ok()?);
        rest = tail;
    }
    Some((status, headers, actix_web::web::Bytes::copy_from_slice(rest)))
}

fn hex_digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0]);
    }
    hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The URL a page is cached under: scheme, host, path and query.
fn url_digest(req: &HttpRequest) -> String {
    let scheme = if crate::http::is_secure(req) { "https" } else { "http" };
    let host = crate::http::request_host(req).to_ascii_lowercase();
    let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    hex_digest(&[scheme.as_bytes(), host.as_bytes(), path.as_bytes()])
}

fn vary_digest(req: &HttpRequest, names: &[String]) -> String {
    let values: Vec<&[u8]> = names
        .iter()
        .flat_map(|name| {
            let mut values: Vec<&[u8]> = req.headers().get_all(name.as_str()).map(HeaderValue::as_bytes).collect();
            values.insert(0, name.as_bytes());
            values
        })
        .collect();
    hex_digest(&values)
}

/// How pages of one declaration (a view's `#[cache_page]`, or the middleware) are cached.
#[derive(Debug, Clone)]
struct Policy {
    cache: Cache,
    /// Shared with the declaration: a request clones the `Arc`, not the text.
    key_prefix: Arc<str>,
    /// Seconds pages are kept when the response does not say (`max-age`).
    timeout: u64,
    tables: Arc<[&'static str]>,
}

/// A page lookup that missed: what storing needs.
#[derive(Debug)]
struct Miss {
    url: String,
    /// The generation suffix of the page key; `None` when it could not be read (not stored then).
    generations: Option<String>,
}

enum Lookup {
    Hit(HttpResponse),
    Miss(Miss),
}

fn gen_key(table: &str) -> String {
    format!("manouche.cache.gen.{table}")
}

/// A fresh generation number: the time in microseconds, so a generation that was evicted and
/// starts again never reuses an old number.
fn seed() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Policy {
    fn header_key(&self, url: &str) -> String {
        self.cache.make_key(&format!("manouche.cache.header.{}.{url}", self.key_prefix))
    }

    fn page_key(&self, url: &str, vary: &str) -> String {
        self.cache.make_key(&format!("manouche.cache.page.{}.GET.{url}.{vary}", self.key_prefix))
    }

    fn lock_key(&self, url: &str) -> String {
        self.cache.make_key(&format!("manouche.cache.lock.{}.{url}", self.key_prefix))
    }

    /// What concurrent misses of one page in this process wait on.
    fn flight_key(&self, url: &str) -> String {
        format!("{:p}.{}", Arc::as_ptr(&self.cache.inner), self.lock_key(url))
    }

    fn memo_key(&self, header_key: &str) -> String {
        format!("{:p}{header_key}", Arc::as_ptr(&self.cache.inner))
    }

    /// One round trip for a page whose header list this process has seen lately: the page key
    /// and the models' generations together. Otherwise the header list comes with the
    /// generations, then the page. A page built at other generations is a miss.
    async fn lookup(&self, req: &HttpRequest) -> Result<Lookup, CacheError> {
        let url = url_digest(req);
        let header_key = self.header_key(&url);
        let memo_key = self.memo_key(&header_key);
        let known = header_memo().get(&memo_key);
        let mut keys = vec![match &known {
            Some(names) => self.page_key(&url, &vary_digest(req, names)),
            None => header_key,
        }];
        keys.extend(self.tables.iter().map(|table| self.cache.make_key(&gen_key(table))));
        // The keys are kept only when there are generations that may need creating.
        let (mut values, keys) = if self.tables.is_empty() {
            (self.cache.get_raw_many(keys).await?, Vec::new())
        } else {
            (self.cache.get_raw_many(keys.clone()).await?, keys)
        };
        let mut missing: Vec<usize> = (1..values.len()).filter(|i| values[*i].is_none()).collect();
        if !missing.is_empty() {
            for &i in &missing {
                self.cache.add_raw(keys[i].clone(), seed().to_string().into_bytes(), Expiry::Never).await?;
            }
            let again = self.cache.get_raw_many(missing.iter().map(|&i| keys[i].clone()).collect()).await?;
            for (&i, value) in missing.iter().zip(again) {
                values[i] = value;
            }
            missing.retain(|&i| values[i].is_none());
        }
        let generations = missing.is_empty().then(|| {
            values[1..].iter().flatten().map(|v| format!(".{}", String::from_utf8_lossy(v))).collect::<String>()
        });
        let first = values.into_iter().next().flatten();
        let page = match known {
            Some(_) => first,
            None => {
                let names: Option<Vec<String>> = first.and_then(|bytes| serde_json::from_slice(&bytes).ok());
                match names {
                    Some(names) => {
                        let page = self.page_key(&url, &vary_digest(req, &names));
                        header_memo().insert(memo_key, Arc::new(names));
                        self.cache.get_raw_many(vec![page]).await?.pop().flatten()
                    }
                    None => None,
                }
            }
        };
        if let (Some(bytes), Some(generations)) = (page, &generations)
            && let Some((status, headers, body)) = decode_page(&bytes, generations)
        {
            if let Some(status) = conditional_status(req, &headers) {
                return Ok(Lookup::Hit(precondition_response(status, &headers)));
            }
            let mut response = HttpResponse::with_body(status, BoxBody::new(body));
            *response.headers_mut() = headers;
            return Ok(Lookup::Hit(response));
        }
        Ok(Lookup::Miss(Miss { url, generations }))
    }

    /// Django's `UpdateCacheMiddleware.process_response`: stores the response when its rules
    /// allow, adding `Expires`, `max-age` and an `ETag`.
    async fn store(&self, req: &HttpRequest, miss: &Miss, response: HttpResponse) -> HttpResponse {
        if *req.method() != Method::GET || response.status() != StatusCode::OK {
            return response;
        }
        let mut response = response;
        // Django leaves this to the session and CSRF middleware around the view; added here,
        // before storing, a per-visitor page cannot be served to another visitor.
        let per_visitor = req.extensions().get::<crate::sessions::Session>().is_some_and(|s| s.accessed())
            || crate::csrf::token_of(req).is_some_and(|t| t.handed_out());
        if per_visitor {
            add_vary(response.headers_mut(), "Cookie");
        }
        let headers = response.headers();
        let varies = vary_names(headers);
        let sets_cookie = headers.contains_key(header::SET_COOKIE);
        if !req.headers().contains_key(header::COOKIE) && sets_cookie && varies.iter().any(|v| v == "cookie") {
            return response;
        }
        let control = directives(headers);
        if control.iter().any(|(n, _)| n == "private" || n == "no-store" || n == "no-cache") {
            return response;
        }
        let timeout = match max_age(headers) {
            Some(0) => return response,
            Some(seconds) => seconds,
            None => self.timeout,
        };
        patch_response_headers(response.headers_mut(), timeout);
        if varies.iter().any(|v| v == "*") || timeout == 0 {
            return response;
        }
        let Some(generations) = &miss.generations else { return response };
        let (head, body) = response.into_parts();
        let bytes = match body.try_into_bytes() {
            Ok(bytes) => bytes,
            Err(body) => return head.set_body(body),
        };
        let mut response = head.set_body(BoxBody::new(bytes.clone()));
        if !response.headers().contains_key(header::ETAG)
            && let Ok(tag) = HeaderValue::from_str(&etag_of(&bytes))
        {
            response.headers_mut().insert(header::ETAG, tag);
        }
        let page = self.page_key(&miss.url, &vary_digest(req, &varies));
        let entry = encode_page(generations, response.status(), response.headers(), &bytes);
        let cache = self.cache.with_timeout(timeout);
        let list = serde_json::to_vec(&varies).unwrap_or_default();
        let header_key = self.header_key(&miss.url);
        header_memo().insert(self.memo_key(&header_key), Arc::new(varies));
        let stored = async {
            cache.set_bytes(header_key, list).await?;
            cache.set_bytes(page, entry).await
        };
        if let Err(error) = stored.await {
            log::warn!(target: "manouche.cache", "a page could not be cached: {error}");
        }
        response
    }
}

/// The header lists this process read or wrote lately, so a hit is one round trip. Kept two
/// seconds: a page whose `Vary` changes is looked up under the old list that long at most.
fn header_memo() -> &'static moka::sync::Cache<String, Arc<Vec<String>>> {
    static MEMO: OnceLock<moka::sync::Cache<String, Arc<Vec<String>>>> = OnceLock::new();
    MEMO.get_or_init(|| moka::sync::Cache::builder().max_capacity(10_000).time_to_live(Duration::from_secs(2)).build())
}

// ---- dog-pile prevention ------------------------------------------------------------------

type Flights = Mutex<HashMap<String, tokio::sync::watch::Receiver<()>>>;

static FLIGHTS: OnceLock<Flights> = OnceLock::new();

/// The request computing a page, in this process: others wait for it to finish. Dropping it
/// (finished, failed or cancelled) wakes them.
struct Leader {
    key: String,
    _done: tokio::sync::watch::Sender<()>,
}

impl Drop for Leader {
    fn drop(&mut self) {
        let mut flights = FLIGHTS.get_or_init(Flights::default).lock().unwrap_or_else(PoisonError::into_inner);
        flights.remove(&self.key);
    }
}

enum Turn {
    Lead(Leader),
    Wait(tokio::sync::watch::Receiver<()>),
}

fn take_turn(key: &str) -> Turn {
    let mut flights = FLIGHTS.get_or_init(Flights::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(waiting) = flights.get(key) {
        return Turn::Wait(waiting.clone());
    }
    let (done, waiting) = tokio::sync::watch::channel(());
    flights.insert(key.to_owned(), waiting);
    Turn::Lead(Leader { key: key.to_owned(), _done: done })
}

/// How long a server waits for another server computing the same page before computing it too.
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// A shared-cache lock: other servers wait for the holder's page instead of computing it.
struct SharedLock {
    cache: Cache,
    key: String,
}

impl SharedLock {
    async fn release(self) {
        let _ = self.cache.delete_raw(self.key).await;
    }
}

impl Policy {
    /// A miss: compute once. In this process concurrent misses of one URL wait for the first;
    /// across processes sharing a cache, a short lock key does the same.
    async fn compute<F, Fut>(&self, req: &HttpRequest, miss: Miss, compute: F) -> crate::Result<HttpResponse>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = crate::Result<HttpResponse>>,
    {
        let (leader, miss) = match take_turn(&self.flight_key(&miss.url)) {
            Turn::Lead(leader) => (leader, miss),
            Turn::Wait(mut waiting) => {
                let _ = waiting.changed().await;
                match self.lookup(req).await {
                    Ok(Lookup::Hit(response)) => return Ok(response),
                    Ok(Lookup::Miss(miss)) => return Ok(self.store(req, &miss, compute().await?).await),
                    Err(_) => return compute().await,
                }
            }
        };
        let mut lock = None;
        if !self.cache.in_process() && miss.generations.is_some() {
            let key = self.lock_key(&miss.url);
            let expiry = Expiry::After(LOCK_TIMEOUT);
            if self.cache.add_raw(key.clone(), b"1".to_vec(), expiry).await.unwrap_or(true) {
                lock = Some(SharedLock { cache: self.cache.clone(), key });
            } else if let Some(response) = self.wait_for_other_server(req).await {
                return Ok(response);
            }
        }
        let result = compute().await;
        let response = match result {
            Ok(response) => Ok(self.store(req, &miss, response).await),
            Err(error) => Err(error),
        };
        if let Some(lock) = lock {
            lock.release().await;
        }
        drop(leader);
        response
    }

    /// Polls the cache while another server holds the lock, up to [`LOCK_TIMEOUT`].
    async fn wait_for_other_server(&self, req: &HttpRequest) -> Option<HttpResponse> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        while started.elapsed() < LOCK_TIMEOUT {
            actix_web::rt::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
            if let Ok(Lookup::Hit(response)) = self.lookup(req).await {
                return Some(response);
            }
            let lock = self.lock_key(&url_digest(req));
            if self.cache.get_raw_many(vec![lock]).await.ok()?.first().is_none_or(Option::is_none) {
                return None;
            }
        }
        None
    }
}

// ---- invalidation ----------------------------------------------------------------------------

/// A `#[cache_page(depends_on = [...])]` of the program, found when a project is built.
#[doc(hidden)]
#[derive(Debug)]
pub struct DependsOn {
    /// The cache alias of the pages.
    pub cache: &'static str,
    /// The tables of the models, connecting their signals on the first call.
    pub tables: fn() -> Vec<&'static str>,
}

inventory::collect!(DependsOn);

/// For each table, the caches holding pages that depend on it (every process that builds the
/// project knows them, so a save anywhere invalidates, not only in a process that served the
/// pages).
static WATCHED: Mutex<Vec<(&'static str, Weak<Inner>)>> = Mutex::new(Vec::new());
/// The models whose signals are connected.
static CONNECTED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Connects the signals of every model pages depend on, for the project's caches.
pub(crate) fn watch_dependencies(caches: &super::Caches) {
    crate::db::signals::on_table_changed(table_changed);
    let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
    watched.retain(|(_, weak)| weak.strong_count() > 0);
    for entry in inventory::iter::<DependsOn> {
        let Ok(cache) = caches.get(entry.cache) else { continue };
        for table in (entry.tables)() {
            if !watched.iter().any(|(t, weak)| *t == table && std::ptr::eq(weak.as_ptr(), Arc::as_ptr(&cache.inner))) {
                watched.push((table, Arc::downgrade(&cache.inner)));
            }
            ANY_WATCHED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Whether any page depends on a model: when none does, changes cost nothing here.
static ANY_WATCHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Rows of `table` changed without model signals (`update()`, a fast `delete()`,
/// `bulk_create`, `bulk_update`): the pages depending on it go when the transaction commits.
pub(crate) fn table_changed(table: &'static str) {
    if !ANY_WATCHED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner).iter().any(|(t, _)| *t == table);
    if watched {
        crate::db::on_commit(move || bump(table));
    }
}

/// Invalidates every cached page that depends on `M`, in every cache that holds such pages
/// (on all servers sharing it): what saving or deleting a row does through the signals and
/// `update()`, `bulk_create` and `bulk_update` do by themselves, for changes the framework does
/// not see (raw SQL). Runs when the current transaction commits, on that thread: call it where
/// the change is made (inside `db.run`/`atomic`, a command, a receiver), not from async view
/// code, since it talks to a shared cache synchronously.
pub fn invalidate_model<M: Model>() {
    let table = M::meta().table;
    crate::db::on_commit(move || bump(table));
}

fn bump(table: &'static str) {
    let caches: Vec<Arc<Inner>> = WATCHED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(t, _)| *t == table)
        .filter_map(|(_, weak)| weak.upgrade())
        .collect();
    for inner in caches {
        let cache = Cache { inner, version: None, timeout: None };
        let key = cache.make_key(&gen_key(table));
        let bumped = match cache.incr_raw_sync(&key, 1) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => cache.add_raw_sync(&key, seed().to_string().as_bytes(), Expiry::Never).map(drop),
            Err(error) => Err(error),
        };
        if let Err(error) = bumped {
            log::error!(target: "manouche.cache", "pages depending on `{table}` could not be invalidated in cache `{}`: {error}", cache.alias());
        }
    }
}

/// A model a page depends on (`depends_on = [Product]`): connects the model's save and delete
/// signals, once, and names its table.
#[doc(hidden)]
pub fn __depends_on<M: Model>() -> &'static str {
    let table = M::meta().table;
    let mut connected = CONNECTED.lock().unwrap_or_else(PoisonError::into_inner);
    if !connected.contains(&table) {
        connected.push(table);
        crate::db::post_save::<M>().connect(move |_| crate::db::on_commit(move || bump(table)));
        crate::db::post_delete::<M>().connect(move |_| crate::db::on_commit(move || bump(table)));
    }
    table
}

// ---- #[cache_page] --------------------------------------------------------------------------

/// What `#[cache_page(...)]` declares on a view.
#[derive(Debug)]
pub struct CachePage {
    timeout: u64,
    cache: &'static str,
    key_prefix: Option<&'static str>,
    depends_on: Option<fn() -> Vec<&'static str>>,
    /// The key prefix and the tables, made on the first request.
    prepared: OnceLock<(Arc<str>, Arc<[&'static str]>)>,
}

impl CachePage {
    #[doc(hidden)]
    pub const fn __new(
        timeout: u64,
        cache: &'static str,
        key_prefix: Option<&'static str>,
        depends_on: Option<fn() -> Vec<&'static str>>,
    ) -> Self {
        CachePage { timeout, cache, key_prefix, depends_on, prepared: OnceLock::new() }
    }

    fn policy(&self, req: &HttpRequest) -> crate::Result<Policy> {
        let cache = super::request_caches(req)
            .get(self.cache)
            .map_err(|e| crate::Error::ImproperlyConfigured(format!("`#[cache_page]`: {e}")))?;
        let (key_prefix, tables) = self.prepared.get_or_init(|| {
            (Arc::from(self.key_prefix.unwrap_or("")), self.depends_on.map(|f| f()).unwrap_or_default().into())
        });
        Ok(Policy { cache, key_prefix: Arc::clone(key_prefix), timeout: self.timeout, tables: Arc::clone(tables) })
    }
}

/// Runs a view under `#[cache_page]`: served from the cache when it can be, computed once and
/// stored otherwise.
#[doc(hidden)]
pub async fn __apply_view_cache<F, Fut>(
    req: &HttpRequest,
    page: &'static CachePage,
    compute: F,
) -> crate::Result<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = crate::Result<HttpResponse>>,
{
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return compute().await;
    }
    let policy = page.policy(req)?;
    match policy.lookup(req).await {
        Ok(Lookup::Hit(response)) => Ok(response),
        Ok(Lookup::Miss(miss)) => policy.compute(req, miss, compute).await,
        Err(error) => {
            log::warn!(target: "manouche.cache", "page cache unavailable: {error}");
            compute().await
        }
    }
}

// ---- the per-site middleware --------------------------------------------------------------

/// The `[cache_middleware]` settings: Django's `CACHE_MIDDLEWARE_*`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CacheMiddlewareSettings {
    /// The cache alias (`CACHE_MIDDLEWARE_ALIAS`).
    pub alias: String,
    /// Seconds a page is kept (`CACHE_MIDDLEWARE_SECONDS`).
    pub seconds: u64,
    /// Put in every page key (`CACHE_MIDDLEWARE_KEY_PREFIX`).
    pub key_prefix: String,
}

impl Default for CacheMiddlewareSettings {
    fn default() -> Self {
        CacheMiddlewareSettings { alias: "default".into(), seconds: 600, key_prefix: String::new() }
    }
}

impl Section for CacheMiddlewareSettings {
    const NAME: &'static str = "cache_middleware";
    const ENV_PREFIX: &'static str = "CACHE_MIDDLEWARE";
}

crate::register_section!(CacheMiddlewareSettings);

/// What `fetch` leaves for `update`: the miss to store under, and the leadership of this page's
/// computation in the process (dropped, waking the others, once the page is stored, or with
/// the request if it never is).
struct PendingStore(Miss, Policy, Option<Leader>);

/// The per-site pair: `manouche.cache.update` (first in `middleware`) stores what
/// `manouche.cache.fetch` (last) did not find. Between them, the other middleware see every
/// request, cached or not, as in Django. Concurrent misses of one page in the process wait for
/// the first to be stored.
#[derive(Debug)]
pub(crate) struct CacheMiddleware {
    fetch: bool,
    alias: String,
    seconds: u64,
    key_prefix: Arc<str>,
    /// No table: whole-site pages depend on nothing in particular.
    tables: Arc<[&'static str]>,
}

impl CacheMiddleware {
    pub(crate) fn from_settings(settings: &Settings, fetch: bool) -> Result<Self, String> {
        let section: CacheMiddlewareSettings = settings.section().map_err(|e| e.to_string())?;
        Ok(CacheMiddleware {
            fetch,
            alias: section.alias,
            seconds: section.seconds,
            key_prefix: section.key_prefix.into(),
            tables: Arc::from([]),
        })
    }

    fn policy(&self, req: &HttpRequest) -> Result<Policy, CacheError> {
        Ok(Policy {
            cache: super::request_caches(req).get(&self.alias)?,
            key_prefix: Arc::clone(&self.key_prefix),
            timeout: self.seconds,
            tables: Arc::clone(&self.tables),
        })
    }
}

impl Middleware for CacheMiddleware {
    fn call<'a>(&'a self, req: ServiceRequest, next: Next<'a>) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            if !matches!(*req.method(), Method::GET | Method::HEAD) {
                return next.run(req).await;
            }
            if self.fetch {
                let policy = match self.policy(req.request()) {
                    Ok(policy) => policy,
                    Err(error) => {
                        log::error!(target: "manouche.cache", "`manouche.cache.fetch`: {error}");
                        return next.run(req).await;
                    }
                };
                match policy.lookup(req.request()).await {
                    Ok(Lookup::Hit(response)) => return req.into_response(response),
                    Ok(Lookup::Miss(miss)) => {
                        let (miss, leader) = match take_turn(&policy.flight_key(&miss.url)) {
                            Turn::Lead(leader) => (miss, Some(leader)),
                            Turn::Wait(mut waiting) => {
                                let _ = waiting.changed().await;
                                match policy.lookup(req.request()).await {
                                    Ok(Lookup::Hit(response)) => return req.into_response(response),
                                    Ok(Lookup::Miss(again)) => (again, None),
                                    Err(_) => return next.run(req).await,
                                }
                            }
                        };
                        req.extensions_mut().insert(Arc::new(Mutex::new(Some(PendingStore(miss, policy, leader)))));
                    }
                    Err(error) => log::warn!(target: "manouche.cache", "page cache unavailable: {error}"),
                }
                return next.run(req).await;
            }
            let response = next.run(req).await;
            let pending = response
                .request()
                .extensions()
                .get::<Arc<Mutex<Option<PendingStore>>>>()
                .and_then(|slot| slot.lock().unwrap_or_else(PoisonError::into_inner).take());
            let Some(PendingStore(miss, policy, leader)) = pending else { return response };
            let (request, response) = response.into_parts();
            let response = policy.store(&request, &miss, response).await;
            drop(leader);
            ServiceResponse::new(request, response)
        })
    }
}
