//! File uploads: `multipart/form-data` bodies read into `FormData` (fields and files), files
//! kept in memory up to a threshold and streamed to a temporary file beyond it, the limits on
//! the body, the fields and the files, file fields of `#[derive(Form)]`, and CSRF and rate
//! limits reading the same multipart form as the view.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use manouche::forms::{Form, FormData, UploadedFile};
use manouche::prelude::*;
use manouche::test::{Client, LiveServer, Multipart};

/// Describes what the form sent: fields, then each file with where it is held.
fn describe(form: &FormData) -> String {
    let mut out = String::new();
    for (name, value) in form.pairs() {
        out.push_str(&format!("field {name}={value}\n"));
    }
    for (field, file) in form.all_files() {
        let content = file.read().expect("the upload is readable");
        let held = match file.temporary_path() {
            Some(path) => format!("disk {} exists={}", path.display(), path.exists()),
            None => "memory".to_owned(),
        };
        out.push_str(&format!(
            "file {field} name={} type={} size={} read={} sum={} {held}\n",
            file.name(),
            file.content_type(),
            file.size(),
            content.len(),
            content.iter().map(|b| u64::from(*b)).sum::<u64>()
        ));
    }
    out
}

#[view(POST, csrf_exempt)]
async fn upload(form: FormData) -> String {
    describe(&form)
}

#[view(POST)]
async fn protected_upload(form: FormData) -> String {
    describe(&form)
}

#[view(POST, csrf_exempt)]
#[ratelimit(key = "post:username", rate = "2/h")]
async fn limited_upload(form: FormData) -> String {
    format!("hello {}", form.get("username").unwrap_or_default())
}

#[derive(Form, Debug)]
struct Document {
    #[form(max_length = 40)]
    title: String,
    #[form(max_length = 12)]
    attachment: UploadedFile,
    cover: Option<UploadedFile>,
}

#[view(GET, POST, csrf_exempt)]
async fn document(req: Request, data: FormData) -> HttpResponse {
    let form = Document::form(&data);
    match form.cleaned() {
        Some(doc) => HttpResponse::Ok().body(format!(
            "saved {} {} {} cover={}",
            doc.title,
            doc.attachment.name(),
            doc.attachment.size(),
            doc.cover.as_ref().map_or("none", UploadedFile::name)
        )),
        None => HttpResponse::Ok().body(form.render(&req.context(), "/document/", "Save").to_string()),
    }
}

fn settings(extra: &str) -> Settings {
    let text = format!(
        "secret_key = \"upload-tests-secret-key-0123456789abcdefghijklmnop\"\n\
         allowed_hosts = [\"testserver\", \"localhost\", \"127.0.0.1\"]\n{extra}"
    );
    Settings::from_toml_str(&text, FsPath::new("."), std::iter::empty()).expect("valid settings")
}

fn project(extra: &str) -> Project {
    Project::new(settings(extra)).app(App::new("uploads").urls(urlpatterns![
        manouche::urls::path("upload/", upload),
        manouche::urls::path("protected/", protected_upload),
        manouche::urls::path("limited/", limited_upload),
        manouche::urls::path("document/", document),
    ]))
}

/// A fresh directory for temporary uploads, so a test can see what is left in it.
fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("manouche-uploads-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn sum(content: &[u8]) -> u64 {
    content.iter().map(|b| u64::from(*b)).sum()
}

#[test]
fn fields_and_small_files_are_read_into_memory() {
    let client = Client::new(project("")).unwrap();
    let body = Multipart::new()
        .field("title", "Quarterly report")
        .file("attachment", "../../etc/report.txt", "text/plain; charset=utf-8", b"figures".to_vec())
        .field("tag", "a")
        .field("tag", "b")
        .file("empty_input", "", "application/octet-stream", Vec::new());
    let response = client.post("/upload/").multipart(&body).send();
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.text(),
        format!(
            "field title=Quarterly report\nfield tag=a\nfield tag=b\n\
             file attachment name=report.txt type=text/plain size=7 read=7 sum={} memory\n",
            sum(b"figures")
        ),
        "the name keeps no directory; a file input left empty sends no file"
    );
    // Without multipart, the same view sees the urlencoded fields and no file.
    let plain = client.post("/upload/").form(&[("title", "x")]).send();
    assert_eq!(plain.text(), "field title=x\n");
}

#[test]
fn a_file_over_the_memory_threshold_is_streamed_to_a_temporary_file_removed_after_the_request() {
    let dir = temp_dir("stream");
    let client = Client::new(project(&format!(
        "[server]\nmax_body_bytes = 10000\nfile_upload_max_memory_bytes = 4096\nfile_upload_temp_dir = \"{}\"",
        dir.display()
    )))
    .unwrap();
    // 1 MB, a hundred times the in-memory bound of the fields: files are bounded apart.
    let big = bytes(1_000_000);
    let small = bytes(4096);
    let body = Multipart::new()
        .field("title", "scan")
        .file("big", "scan.bin", "application/octet-stream", big.clone())
        .file("small", "thumb.bin", "application/octet-stream", small.clone());
    let response = client.post("/upload/").multipart(&body).send();
    assert_eq!(response.status(), 200, "{}", response.text());
    let text = response.text();
    let big_line = text.lines().find(|l| l.starts_with("file big ")).expect("the big file");
    assert!(
        big_line.contains(&format!("size=1000000 read=1000000 sum={} disk {}", sum(&big), dir.display())),
        "{big_line}"
    );
    assert!(big_line.ends_with("exists=true"), "the file is there while the view runs: {big_line}");
    assert!(
        text.contains(&format!(
            "file small name=thumb.bin type=application/octet-stream size=4096 read=4096 sum={} memory",
            sum(&small)
        )),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "the temporary file is deleted with the request: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn upload_limits_answer_413_and_400() {
    let client = Client::new(project(
        "[server]\nmax_body_bytes = 1000\nmax_form_fields = 3\nmax_upload_files = 2\nmax_upload_bytes = 20000",
    ))
    .unwrap();
    // Over max_upload_bytes: refused from Content-Length, before the body is read.
    let body = Multipart::new().file("f", "a.bin", "application/octet-stream", bytes(30_000));
    assert_eq!(client.post("/upload/").multipart(&body).send().status(), 413);
    // The text fields together over max_body_bytes, though the body is within the upload bound.
    let body = Multipart::new().field("a", &"x".repeat(600)).field("b", &"y".repeat(600));
    let refused = client.post("/upload/").multipart(&body).send();
    assert_eq!(refused.status(), 413, "{}", refused.text());
    // A file larger than max_body_bytes is fine: only fields count there.
    let body = Multipart::new().field("a", "1").file("f", "a.bin", "application/octet-stream", bytes(15_000));
    assert_eq!(client.post("/upload/").multipart(&body).send().status(), 200);
    // Django's DATA_UPLOAD_MAX_NUMBER_FIELDS and DATA_UPLOAD_MAX_NUMBER_FILES.
    let body = Multipart::new().field("a", "1").field("b", "2").field("c", "3").field("d", "4");
    assert_eq!(client.post("/upload/").multipart(&body).send().status(), 400);
    let body = Multipart::new()
        .file("f", "1.txt", "text/plain", b"1".to_vec())
        .file("f", "2.txt", "text/plain", b"2".to_vec())
        .file("f", "3.txt", "text/plain", b"3".to_vec());
    assert_eq!(client.post("/upload/").multipart(&body).send().status(), 400);
    // A body broken off before its closing boundary, and one without a boundary.
    let (mut body, content_type) = Multipart::new().field("a", "1").encode();
    body.truncate(body.len() - 10);
    assert_eq!(client.post("/upload/").body(body, &content_type).send().status(), 400);
    assert_eq!(client.post("/upload/").body(b"a=1".to_vec(), "multipart/form-data").send().status(), 400);
    // In debug the page says what was refused.
    let debug = Client::new(project("debug = true\n[server]\nmax_upload_files = 2")).unwrap();
    let body = Multipart::new()
        .file("f", "1.txt", "text/plain", b"1".to_vec())
        .file("f", "2.txt", "text/plain", b"2".to_vec())
        .file("f", "3.txt", "text/plain", b"3".to_vec());
    let refused = debug.post("/upload/").multipart(&body).send();
    assert!(refused.text().contains("The form sent more than 2 files."), "{}", refused.text());
}

/// Sends `body` to `addr` chunked (no `Content-Length`), returning the status line.
fn post_chunked(addr: std::net::SocketAddr, path: &str, content_type: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    for chunk in body.chunks(64 * 1024) {
        // The server may answer and close before the whole body is sent.
        if write!(stream, "{:x}\r\n", chunk.len())
            .and_then(|()| stream.write_all(chunk))
            .and_then(|()| stream.write_all(b"\r\n"))
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw).into_owned()
}

#[test]
fn a_large_upload_over_a_real_connection_streams_to_disk_and_a_chunked_one_stops_at_the_limit() {
    let dir = temp_dir("live");
    let server = LiveServer::start(project(&format!(
        "[server]\nmax_upload_bytes = 20000000\nfile_upload_temp_dir = \"{}\"",
        dir.display()
    )))
    .unwrap();
    // 8 MB, over Django's 2.5 MB in-memory bound.
    let content = bytes(8_000_000);
    let (body, content_type) =
        Multipart::new().field("title", "video").file("video", "clip.mp4", "video/mp4", content.clone()).encode();
    let answer = post_chunked(server.addr(), "/upload/", &content_type, &body);
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", answer.lines().next().unwrap_or(""));
    assert!(
        answer.contains(&format!(
            "file video name=clip.mp4 type=video/mp4 size=8000000 read=8000000 sum={} disk {}",
            sum(&content),
            dir.display()
        )),
        "{}",
        answer.lines().last().unwrap_or("")
    );
    // Chunked past max_upload_bytes: no Content-Length to refuse early, so reading stops there.
    let (body, content_type) = Multipart::new().file("video", "huge.mp4", "video/mp4", bytes(25_000_000)).encode();
    let answer = post_chunked(server.addr(), "/upload/", &content_type, &body);
    assert!(answer.starts_with("HTTP/1.1 413"), "{}", answer.lines().next().unwrap_or(""));
    drop(server);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "no temporary file is left behind, even by the refused upload: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_fields_of_a_form_are_validated_like_djangos_file_field() {
    let client = Client::new(project("")).unwrap();
    // The page: a file input, and the form sent as multipart.
    let page = client.get("/document/").send().text();
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(page.contains("<input type=\"file\" name=\"attachment\" required id=\"id_attachment\">"), "{page}");
    assert!(page.contains("<input type=\"file\" name=\"cover\" id=\"id_cover\">"), "{page}");
    let post = |body: Multipart| client.post("/document/").multipart(&body).send().text();
    assert_eq!(
        post(Multipart::new().field("title", "CV").file("attachment", "cv.pdf", "application/pdf", b"%PDF".to_vec())),
        "saved CV cv.pdf 4 cover=none"
    );
    assert_eq!(
        post(
            Multipart::new()
                .field("title", "CV")
                .file("attachment", "cv.pdf", "application/pdf", b"%PDF".to_vec())
                .file("cover", "me.png", "image/png", b"png".to_vec())
        ),
        "saved CV cv.pdf 4 cover=me.png"
    );
    let missing = post(Multipart::new().field("title", "CV"));
    assert!(missing.contains("This field is required."), "{missing}");
    let empty = post(Multipart::new().field("title", "CV").file("attachment", "cv.pdf", "application/pdf", Vec::new()));
    assert!(empty.contains("The submitted file is empty."), "{empty}");
    let long = post(Multipart::new().field("title", "CV").file(
        "attachment",
        "curriculum-vitae.pdf",
        "application/pdf",
        b"x".to_vec(),
    ));
    assert!(long.contains("Ensure this filename has at most 12 characters (it has 20)."), "{long}");
    // A form sent urlencoded where a file was expected.
    let urlencoded = client.post("/document/").form(&[("title", "CV"), ("attachment", "cv.pdf")]).send().text();
    assert!(urlencoded.contains("No file was submitted. Check the encoding type on the form."), "{urlencoded}");
    // Bound by hand, as a unit test of a form would.
    let data = FormData::from_pairs([("title", "CV")])
        .with_file("attachment", UploadedFile::from_bytes("a.txt", "text/plain", "hi"));
    let doc = Document::bind(&data).into_cleaned().expect("valid");
    assert_eq!((doc.attachment.name(), doc.attachment.read().unwrap()), ("a.txt", b"hi".to_vec()));
}

#[test]
fn csrf_and_rate_limits_read_the_same_multipart_form_as_the_view() {
    let client = Client::new(project("[server]\nmax_body_bytes = 1000\nfile_upload_max_memory_bytes = 100"))
        .unwrap()
        .enforce_csrf_checks();
    let page = client.get("/document/").send();
    assert_eq!(page.status(), 200);
    let token = client.cookies().get("csrftoken").cloned().expect("a CSRF cookie");
    // The token in the multipart body; the file (bigger than max_body_bytes) reaches the view.
    let content = bytes(50_000);
    let body = Multipart::new().field("csrfmiddlewaretoken", &token).file(
        "doc",
        "doc.bin",
        "application/octet-stream",
        content.clone(),
    );
    let response = client.post("/protected/").multipart(&body).send();
    assert_eq!(response.status(), 200, "{}", response.text());
    assert!(
        response.text().contains(&format!(
            "file doc name=doc.bin type=application/octet-stream size=50000 read=50000 sum={}",
            sum(&content)
        )),
        "{}",
        response.text()
    );
    assert!(response.text().contains("field csrfmiddlewaretoken="), "{}", response.text());
    // Without the token: refused.
    let body = Multipart::new().file("doc", "doc.bin", "application/octet-stream", content);
    assert_eq!(client.post("/protected/").multipart(&body).send().status(), 403);
    // A rate limit keyed by a field of a multipart form, the view still reading it.
    let client = Client::new(project("")).unwrap();
    let login = |user: &str| {
        let body = Multipart::new().field("username", user).file("avatar", "a.png", "image/png", b"png".to_vec());
        client.post("/limited/").multipart(&body).send()
    };
    assert_eq!(login("ada").text(), "hello ada");
    assert_eq!(login("ADA").status(), 200);
    assert_eq!(login("ada").status(), 429);
    assert_eq!(login("grace").text(), "hello grace");
}
