use manouche::prelude::*;
use manouche::urls::path;

/// A documented view.
#[view(GET, POST, name = "detail")]
pub async fn detail(_req: Request, id: Path<i64>) -> manouche::Result<String> {
    Ok(id.to_string())
}

#[view]
async fn any_method(#[params(year, month)] date: Path<(u16, u8)>) -> String {
    format!("{:?}", date.into_inner())
}

#[view(GET)]
async fn plain() -> &'static str {
    "plain"
}

fn main() {
    let _ = urlpatterns![
        path("d/{id:int}/", detail),
        path("a/{year}/{month}/", any_method),
        path("", plain),
    ];
    let _: Result<String, manouche::urls::NoReverseMatch> = detail::url(5);
    let _ = detail::url(&5);
    let _ = any_method::url(2026u16, 3u8);
    let _ = plain::url();
}
