use manouche::prelude::*;

#[derive(Template)]
#[template(source = "{{ name }} costs {{ pirce }}", ext = "html")]
struct Label {
    name: String,
    price: u32,
}

fn main() {
    let _ = Label { name: "tea".into(), price: 3 }.render();
}
