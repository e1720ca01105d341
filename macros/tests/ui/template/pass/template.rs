use manouche::prelude::*;

#[derive(Template)]
#[template(source = "{{ name }} costs {{ price }}", ext = "html")]
struct Label {
    name: String,
    price: u32,
}

fn main() {
    let label = Label { name: "<tea>".into(), price: 3 };
    assert_eq!(label.render().unwrap(), "&#60;tea&#62; costs 3");
}
