//! `multipart/form-data` bodies for tests: what a browser sends for a form with files.

/// A `multipart/form-data` body: text fields and files, in order. Send it with
/// [`RequestBuilder::multipart`](super::RequestBuilder::multipart), or [`encode`](Self::encode)
/// it for another HTTP client (against a [`LiveServer`](super::LiveServer)).
///
/// ```
/// use manouche::test::Multipart;
///
/// let (body, content_type) = Multipart::new()
///     .field("title", "Report")
///     .file("attachment", "report.txt", "text/plain", b"figures".to_vec())
///     .encode();
/// assert!(content_type.starts_with("multipart/form-data; boundary="));
/// let text = String::from_utf8(body).unwrap();
/// assert!(text.contains("Content-Disposition: form-data; name=\"attachment\"; filename=\"report.txt\""));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
struct Part {
    name: String,
    file: Option<(String, String)>,
    content: Vec<u8>,
}

impl Multipart {
    /// An empty body.
    pub fn new() -> Self {
        Multipart::default()
    }

    /// Adds a text field.
    #[must_use]
    pub fn field(mut self, name: &str, value: &str) -> Self {
        self.parts.push(Part { name: name.to_owned(), file: None, content: value.as_bytes().to_vec() });
        self
    }

    /// Adds a file: the field's name, the file's name, its content type and its content.
    #[must_use]
    pub fn file(mut self, name: &str, file_name: &str, content_type: &str, content: impl Into<Vec<u8>>) -> Self {
        self.parts.push(Part {
            name: name.to_owned(),
            file: Some((file_name.to_owned(), content_type.to_owned())),
            content: content.into(),
        });
        self
    }

    /// The body and its `Content-Type` (with a boundary found in no part).
    pub fn encode(&self) -> (Vec<u8>, String) {
        let mut counter = 0u32;
        let boundary = loop {
            let candidate = format!("----manouche-test-boundary-{counter:08x}");
            if !self.parts.iter().any(|part| contains(&part.content, candidate.as_bytes())) {
                break candidate;
            }
            counter += 1;
        };
        let mut body = Vec::new();
        for part in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let name = quoted(&part.name);
            match &part.file {
                Some((file_name, content_type)) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
                        quoted(file_name)
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(&part.content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (body, format!("multipart/form-data; boundary={boundary}"))
    }
}

/// A name as browsers quote it in `Content-Disposition` (HTML's form-data encoding).
fn quoted(name: &str) -> String {
    name.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}
