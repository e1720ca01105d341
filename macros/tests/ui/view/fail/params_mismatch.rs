use manouche::prelude::*;

#[view(GET)]
async fn archive(#[params(year)] date: Path<(u16, u8)>) -> String {
    format!("{:?}", date.into_inner())
}

#[view(GET)]
async fn single(#[params(a, b)] value: Path<String>) -> String {
    value.into_inner()
}

fn main() {
    let _ = urlpatterns![manouche::urls::path("{year}/", archive), manouche::urls::path("{a}/", single)];
}
