//! The cart, kept in the visitor's session: product ids and quantities. Forms on the product
//! and cart pages post (with their CSRF token) to add, change and remove lines, then redirect
//! with a message; `/api/cart/` does the same for a script on the site's own pages, which sends
//! the token in the `X-CSRFToken` header (`static/shop/cart.js`). Totals are exact decimals.

use std::collections::BTreeMap;

use diesel::ExpressionMethods;
use manouche::db::Decimal;
use manouche::http::Form;
use manouche::prelude::*;
use manouche::sessions::Session;
use serde::{Deserialize, Serialize};

use super::models::Product;

/// The session key the cart is kept under.
pub const SESSION_KEY: &str = "cart";
/// The most tins of one tea a cart takes.
pub const MAX_QUANTITY: u32 = 99;

/// Quantities by product id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    lines: BTreeMap<i64, u32>,
}

impl Cart {
    /// The session's cart; a value of another shape (an older release's) is an empty cart.
    pub fn load(session: &Session) -> Cart {
        session.get(SESSION_KEY).ok().flatten().unwrap_or_default()
    }

    fn save(&self, session: &Session) -> manouche::Result<()> {
        if self.lines.is_empty() {
            session.remove(SESSION_KEY);
            Ok(())
        } else {
            session.insert(SESSION_KEY, self)
        }
    }

    /// Tins in the cart.
    pub fn count(&self) -> u32 {
        self.lines.values().sum()
    }

    /// The quantity of a product.
    pub fn quantity(&self, product: i64) -> u32 {
        self.lines.get(&product).copied().unwrap_or(0)
    }
}

/// One line as shown: the product, how many, and what they cost.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// The product.
    pub product: Product,
    /// How many tins.
    pub quantity: u32,
    /// `price × quantity`, exact.
    pub total: Decimal,
}

/// The cart with its products loaded: one query whatever its size.
pub(crate) async fn lines(req: &Request, cart: &Cart) -> manouche::Result<(Vec<Line>, Decimal)> {
    if cart.lines.is_empty() {
        return Ok((Vec::new(), Decimal::new(0, 2)));
    }
    let ids: Vec<i64> = cart.lines.keys().copied().collect();
    let products = Product::objects()
        .filter(Product::id.eq_any(ids))
        .filter(Product::active.eq(true))
        .order_by(Product::name.asc())
        .all(&req.db())
        .await?;
    // A product withdrawn since it was added is left out.
    let lines: Vec<Line> = products
        .into_iter()
        .map(|product| {
            let quantity = cart.quantity(product.id);
            let total = product.price * Decimal::from(i64::from(quantity));
            Line { product, quantity, total }
        })
        .collect();
    let total = lines.iter().map(|l| l.total).sum::<Decimal>().with_places(2);
    Ok((lines, total))
}

/// A product that can be put in a cart; 404 otherwise.
async fn sellable(req: &Request, id: i64) -> manouche::Result<Product> {
    let found = Product::objects().filter(Product::id.eq(id)).filter(Product::active.eq(true)).first(&req.db()).await?;
    found.ok_or_else(|| manouche::http::Error::not_found(format!("no product {id} for sale")).into())
}

fn quantity_in_range(quantity: u32, zero_allowed: bool) -> Result<u32, manouche::http::Error> {
    let min = u32::from(!zero_allowed);
    if (min..=MAX_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(manouche::http::Error::bad_request(format!("the quantity must be {min} to {MAX_QUANTITY}")))
    }
}

/// What setting a line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Removed,
    SoldOut,
    Set(u32),
    /// Fewer than asked: the stock.
    Capped(u32),
}

impl Change {
    /// What to tell the visitor, and how loudly.
    fn message(self, product: &Product) -> (manouche::messages::Level, String) {
        use manouche::messages::Level;
        let name = &product.name;
        match self {
            Change::Removed => (Level::Success, format!("Removed {name} from your cart.")),
            Change::SoldOut => (Level::Error, format!("{name} is sold out.")),
            Change::Set(quantity) => (Level::Success, format!("Your cart holds {quantity} × {name}.")),
            Change::Capped(stock) => {
                (Level::Warning, format!("Only {stock} tins of {name} are in stock: your cart holds {stock}."))
            }
        }
    }
}

/// Sets a line to `wanted` tins, no more than the stock (0 removes it).
fn set_line(cart: &mut Cart, product: &Product, wanted: u32) -> Change {
    let stock = u32::try_from(product.stock.max(0)).unwrap_or(0);
    if wanted == 0 {
        cart.lines.remove(&product.id);
        return Change::Removed;
    }
    if stock == 0 {
        return Change::SoldOut;
    }
    let quantity = wanted.min(stock);
    cart.lines.insert(product.id, quantity);
    if quantity < wanted { Change::Capped(stock) } else { Change::Set(quantity) }
}

/// Sets a line, saves the cart and leaves a message for the next page.
fn change_line(
    req: &Request,
    session: &Session,
    product: &Product,
    wanted: impl FnOnce(&Cart) -> u32,
) -> manouche::Result<()> {
    let mut cart = Cart::load(session);
    let wanted = wanted(&cart);
    let change = set_line(&mut cart, product, wanted);
    cart.save(session)?;
    let (level, text) = change.message(product);
    req.messages()?.add(level, text, "")
}

/// `product` and `quantity`, as the add and change forms post them.
#[derive(Debug, Deserialize)]
pub struct LineForm {
    product: i64,
    quantity: u32,
}

/// `product`, as the remove form posts it.
#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    product: i64,
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location)).finish()
}

#[derive(Template)]
#[template(path = "shop/cart.html")]
struct CartPage {
    ctx: RequestContext,
    lines: Vec<Line>,
    total: Decimal,
    max_quantity: u32,
}

/// `/cart/`: the lines, their totals and the total, with forms to change and remove.
#[view(GET)]
#[never_cache]
pub async fn cart_detail(req: Request) -> manouche::Result<HttpResponse> {
    let cart = Cart::load(&req.session()?);
    let (lines, total) = lines(&req, &cart).await?;
    render(&CartPage { ctx: req.context(), lines, total, max_quantity: MAX_QUANTITY })
}

/// `POST /cart/add/`: adds tins of a product (to what the cart holds), then shows the cart.
#[view(POST)]
pub async fn cart_add(req: Request, form: Form<LineForm>) -> manouche::Result<HttpResponse> {
    let form = form.into_inner();
    let quantity = quantity_in_range(form.quantity, false)?;
    let product = sellable(&req, form.product).await?;
    change_line(&req, &req.session()?, &product, |cart| {
        cart.quantity(product.id).saturating_add(quantity).min(MAX_QUANTITY)
    })?;
    Ok(see_other(&cart_detail::url()?))
}

/// `POST /cart/change/`: sets a line's quantity (0 removes it).
#[view(POST)]
pub async fn cart_change(req: Request, form: Form<LineForm>) -> manouche::Result<HttpResponse> {
    let form = form.into_inner();
    let quantity = quantity_in_range(form.quantity, true)?;
    let product = sellable(&req, form.product).await?;
    change_line(&req, &req.session()?, &product, |_| quantity)?;
    Ok(see_other(&cart_detail::url()?))
}

/// `POST /cart/remove/`: drops a line.
#[view(POST)]
pub async fn cart_remove(req: Request, form: Form<RemoveForm>) -> manouche::Result<HttpResponse> {
    let session = req.session()?;
    let mut cart = Cart::load(&session);
    let id = form.into_inner().product;
    if cart.lines.remove(&id).is_some() {
        cart.save(&session)?;
        let name = match sellable(&req, id).await {
            Ok(product) => product.name,
            Err(_) => "The product".to_owned(),
        };
        req.messages()?.success(format!("Removed {name} from your cart."))?;
    }
    Ok(see_other(&cart_detail::url()?))
}

/// The cart as `/api/cart/` answers it.
#[derive(Debug, Serialize)]
pub struct ApiCart {
    lines: Vec<ApiLine>,
    count: u32,
    total: Decimal,
    /// What the last change did, for the script to show.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// A line of [`ApiCart`].
#[derive(Debug, Serialize)]
pub struct ApiLine {
    product: i64,
    name: String,
    quantity: u32,
    unit_price: Decimal,
    total: Decimal,
}

async fn api_cart(req: &Request, cart: &Cart) -> manouche::Result<ApiCart> {
    let (lines, total) = lines(req, cart).await?;
    let count = lines.iter().map(|l| l.quantity).sum();
    let lines = lines
        .into_iter()
        .map(|l| ApiLine {
            product: l.product.id,
            name: l.product.name,
            quantity: l.quantity,
            unit_price: l.product.price,
            total: l.total,
        })
        .collect();
    Ok(ApiCart { lines, count, total, message: None })
}

/// `GET /api/cart/`: the cart as JSON. `POST` with `{"product": id, "quantity": n}` and the
/// `X-CSRFToken` header sets a line, as a same-site script does.
#[view(GET, POST, name = "cart")]
pub async fn api_cart_view(req: Request, body: Option<Json<LineForm>>) -> manouche::Result<HttpResponse> {
    let session = req.session()?;
    let mut cart = Cart::load(&session);
    let mut message = None;
    if req.method() == manouche::http::Method::POST {
        let Some(Json(form)) = body else {
            return Err(manouche::http::Error::bad_request("send {\"product\": id, \"quantity\": n} as JSON").into());
        };
        let quantity = quantity_in_range(form.quantity, true)?;
        let product = sellable(&req, form.product).await?;
        // The script shows the result itself: no message is kept for the next page.
        message = Some(set_line(&mut cart, &product, quantity).message(&product).1);
        cart.save(&session)?;
    }
    let mut answer = api_cart(&req, &cart).await?;
    answer.message = message;
    Ok(HttpResponse::Ok().json(answer))
}

/// Puts `cart_count` in every template's context.
pub(crate) fn cart_count(req: &Request, vars: &mut manouche::templates::ContextVars) {
    let count = req.session().map(|s| Cart::load(&s).count()).unwrap_or(0);
    vars.insert("cart_count", count.to_string());
}
