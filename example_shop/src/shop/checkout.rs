//! Checkout and "My orders": logged-in customers turn their cart into an order, in one
//! transaction that never oversells, and see their own orders only.

use diesel::ExpressionMethods;
use manouche::auth::User;
use manouche::db::{Connection, Decimal, ForeignKey, Uuid};
use manouche::prelude::*;

use super::cart::{Cart, Line};
use super::models::{Customer, Order, OrderItem, OrderItemOrderReverse as _, OrderStatus, Product};

/// The customer profile of a user: theirs, or a guest profile with their e-mail address that
/// they now claim, or a new one.
pub(crate) fn customer_of(conn: &mut Connection, user: &User) -> Result<Customer, manouche::db::Error> {
    if let Some(customer) = Customer::objects().filter(Customer::user.eq(user.id)).first_sync(conn)? {
        return Ok(customer);
    }
    let email = if user.email.is_empty() { format!("user-{}@accounts.invalid", user.id) } else { user.email.clone() };
    let guest = Customer::objects()
        .filter(Customer::email.eq(email.clone()))
        .filter(Customer::user.is_null())
        .first_sync(conn)?;
    if let Some(guest) = guest {
        Customer::objects().filter(Customer::id.eq(guest.id)).update_sync(conn, Customer::user.eq(user.id))?;
        return Ok(Customer { user: Some(ForeignKey::new(user.id)), ..guest });
    }
    let name = match user.full_name() {
        full if full.is_empty() => user.username.clone(),
        full => full,
    };
    Customer { id: 0, user: Some(ForeignKey::new(user.id)), name, email, joined_at: manouche::db::now() }
        .save_sync(conn)
}

/// Why an order was not placed.
#[derive(Debug)]
enum Refusal {
    /// Fewer tins on the shelf than the cart holds.
    Short {
        name: String,
        available: i32,
    },
    /// Withdrawn from sale since it was added.
    Gone,
    Db(manouche::db::Error),
}

impl From<manouche::db::Error> for Refusal {
    fn from(error: manouche::db::Error) -> Self {
        Refusal::Db(error)
    }
}

/// Places the order in the open transaction: each line's stock decremented only if enough is
/// left (a conditional `UPDATE`, so two buyers of the last tin cannot both succeed), the items
/// at the current prices.
fn place(conn: &mut Connection, user: &User, lines: &[(i64, u32)], to: &AddressForm) -> Result<Order, Refusal> {
    let customer = customer_of(conn, user)?;
    let order = Order {
        id: 0,
        reference: Uuid::new_v4(),
        customer: ForeignKey::new(customer.id),
        status: OrderStatus::Pending,
        placed_at: manouche::db::now(),
        ship_to: to.ship_to.clone(),
        address: to.address.clone(),
        postcode: to.postcode.clone(),
        city: to.city.clone(),
    }
    .save_sync(conn)?;
    let mut items = Vec::with_capacity(lines.len());
    // Always the same order of rows: two checkouts never wait on each other crosswise.
    let mut lines = lines.to_vec();
    lines.sort_unstable();
    for (id, quantity) in lines {
        let quantity = i32::try_from(quantity).unwrap_or(i32::MAX);
        // Only if enough is left, checked on the row's latest version: of two buyers of the last
        // tin, one updates the row and the other nothing (Django's `filter(stock__gte=n)
        // .update(stock=F("stock") - n)`).
        let taken = Product::objects()
            .filter(Product::id.eq(id))
            .filter(Product::active.eq(true))
            .filter(Product::stock.ge(quantity))
            .update_sync(conn, Product::stock.eq(Product::stock - quantity))?;
        let product = Product::objects().filter(Product::id.eq(id)).first_sync(conn)?;
        let Some(product) = product.filter(|p| p.active) else { return Err(Refusal::Gone) };
        if taken == 0 {
            return Err(Refusal::Short { name: product.name, available: product.stock });
        }
        items.push(OrderItem {
            id: 0,
            order: ForeignKey::new(order.id),
            product: ForeignKey::new(product.id),
            quantity,
            unit_price: product.price,
        });
    }
    OrderItem::objects().bulk_create_sync(conn, items)?;
    Ok(order)
}

/// Where the order goes: the checkout's form.
#[derive(manouche::forms::Form, Debug, Clone)]
pub struct AddressForm {
    #[form(max_length = 100, label = "Full name")]
    ship_to: String,
    #[form(textarea, max_length = 500, label = "Street address")]
    address: String,
    #[form(max_length = 12, clean = postcode)]
    postcode: String,
    #[form(max_length = 100, label = "Town or city")]
    city: String,
}

/// Letters, digits, spaces and hyphens: a postcode of most countries.
fn postcode(text: String) -> Result<String, String> {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') {
        Ok(text.to_uppercase())
    } else {
        Err("Enter a valid postcode.".to_owned())
    }
}

#[derive(Template)]
#[template(path = "shop/checkout.html")]
struct CheckoutPage {
    ctx: RequestContext,
    lines: Vec<Line>,
    total: Decimal,
    form: manouche::forms::FormHtml,
}

/// `/checkout/`: GET shows the cart and the address form; POST places the order (login
/// required) once the address is valid.
#[view(GET, POST)]
#[login_required]
#[never_cache]
#[ratelimit(key = "user", rate = "10/m", method = "POST")]
pub async fn checkout(req: Request, data: manouche::forms::FormData) -> manouche::Result<HttpResponse> {
    use manouche::forms::Form as _;
    let session = req.session()?;
    let cart = Cart::load(&session);
    let (lines, total) = super::cart::lines(&req, &cart).await?;
    let messages = req.messages()?;
    if lines.is_empty() {
        messages.info("Your cart is empty: add some tea first.")?;
        return Ok(manouche::http::redirect(&super::cart::cart_detail::url()?));
    }
    let mut form = AddressForm::form(&data);
    if !data.is_submitted()
        && let Some(user) = req.user()?.get()
    {
        let name = format!("{} {}", user.first_name, user.last_name);
        form = form.initial("ship_to", name.trim());
    }
    let Some(address) = form.cleaned().cloned() else {
        let form = form.render(&req.context(), &checkout::url()?, "Place the order");
        return render(&CheckoutPage { ctx: req.context(), lines, total, form });
    };
    let Some(user) = req.user()?.get().cloned() else {
        return manouche::auth::redirect_to_login(&req);
    };
    let wanted: Vec<(i64, u32)> = lines.iter().map(|l| (l.product.id, l.quantity)).collect();
    let outcome = req
        .db()
        .run(move |conn| {
            let mut refusal = None;
            // A refusal rolls the whole transaction back: no order, no stock taken.
            let placed = manouche::db::atomic(conn, |conn| {
                let order = place(conn, &user, &wanted, &address).map_err(|why| match why {
                    Refusal::Db(error) => error,
                    other => {
                        refusal = Some(other);
                        manouche::db::Error::InvalidInput { model: "shop.Order", errors: Vec::new() }
                    }
                })?;
                // Sent once the order is committed; a refused or failed checkout sends nothing.
                super::tasks::send_order_confirmation
                    .enqueue_on_commit(order.id)
                    .map_err(|e| manouche::db::Error::Unavailable { reason: e.to_string() })?;
                Ok(order)
            });
            match (placed, refusal) {
                (Ok(order), _) => Ok(Ok(order)),
                (Err(_), Some(refusal)) => Ok(Err(refusal)),
                (Err(error), None) => Err(error),
            }
        })
        .await?;
    match outcome {
        Ok(order) => {
            session.remove(super::cart::SESSION_KEY);
            messages.success(format!("Thank you! Your order {} is placed.", order.reference))?;
            Ok(manouche::http::redirect(&order_detail::url(order.reference.to_string())?))
        }
        Err(Refusal::Short { name, available }) => {
            messages.error(format!(
                "Only {available} tins of {name} are left: nothing was ordered. Change the quantity and try again."
            ))?;
            Ok(manouche::http::redirect(&super::cart::cart_detail::url()?))
        }
        Err(_) => {
            messages.error("A tea in your cart is no longer sold: nothing was ordered. Remove it and try again.")?;
            Ok(manouche::http::redirect(&super::cart::cart_detail::url()?))
        }
    }
}

#[derive(Template)]
#[template(path = "shop/orders.html")]
struct OrdersPage {
    ctx: RequestContext,
    orders: Vec<Order>,
}

/// `/orders/`: the logged-in customer's orders, newest first.
#[view(GET)]
#[login_required]
#[never_cache]
pub async fn order_list(req: Request) -> manouche::Result<HttpResponse> {
    let user_id = req.user()?.id().unwrap_or_default();
    let orders = req
        .db()
        .run(move |conn| {
            let customers = Customer::objects().filter(Customer::user.eq(user_id)).values_list(Customer::id);
            use manouche::db::SubqueryLookups as _;
            Order::objects().filter(Order::customer.is_in(customers)).all_sync(conn)
        })
        .await?;
    render(&OrdersPage { ctx: req.context(), orders })
}

#[derive(Template)]
#[template(path = "shop/order_detail.html")]
struct OrderPage {
    ctx: RequestContext,
    order: Order,
    items: Vec<(OrderItem, Product, Decimal)>,
    total: Decimal,
}

/// `/orders/<reference>/`: one of the customer's orders; another's (or none) is a 404.
#[view(GET)]
#[login_required]
#[never_cache]
pub async fn order_detail(req: Request, reference: Path<String>) -> manouche::Result<HttpResponse> {
    let reference =
        Uuid::parse_str(&reference.into_inner()).map_err(|_| manouche::http::Error::not_found("no such order"))?;
    let user_id = req.user()?.id().unwrap_or_default();
    let found = req
        .db()
        .run(move |conn| {
            let Some(order) = Order::objects().filter(Order::reference.eq(reference)).first_sync(conn)? else {
                return Ok(None);
            };
            let customer = order.customer.fetch_sync(conn)?;
            if customer.user.as_ref().map(|u| *u.id()) != Some(user_id) {
                return Ok(None);
            }
            let items = order.items().select_related(OrderItem::product).all_sync(conn)?;
            let mut lines = Vec::with_capacity(items.len());
            for item in items {
                let product = item.product.fetch_sync(conn)?;
                let total = item.unit_price * Decimal::from(i64::from(item.quantity));
                lines.push((item, (*product).clone(), total));
            }
            Ok(Some((order, lines)))
        })
        .await?;
    let Some((order, items)) = found else {
        return Err(manouche::http::Error::not_found("no such order").into());
    };
    let total = items.iter().map(|(_, _, t)| *t).sum::<Decimal>().with_places(2);
    render(&OrderPage { ctx: req.context(), order, items, total })
}
