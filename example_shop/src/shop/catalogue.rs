//! The catalogue views: product list with category filter, search and pagination, product
//! detail, and a JSON API.

use diesel::{BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, TextExpressionMethods};
use manouche::db::IntegerChoices as _;
use manouche::db::Paginator;
use manouche::prelude::*;
use serde::{Deserialize, Serialize};

use super::models::{Category, Product, ProductTags, Review, ReviewProductReverse as _, Tag};

/// Products per page.
pub const PAGE_SIZE: u32 = 6;

/// The longest search accepted, as a search form field's `max_length`.
pub const MAX_SEARCH_LENGTH: usize = 200;

/// `?category=green&q=sen&page=2`. An empty `category` (the form's "All categories") is no
/// filter; a repeated key counts with its last value ([`manouche::http::Query`]).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    category: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

impl ListQuery {
    /// The search text, trimmed; 400 when longer than [`MAX_SEARCH_LENGTH`].
    fn search(&self) -> Result<&str, manouche::http::Error> {
        let q = self.q.as_deref().map_or("", str::trim);
        if q.chars().count() > MAX_SEARCH_LENGTH {
            return Err(manouche::http::Error::bad_request(format!(
                "the search is longer than {MAX_SEARCH_LENGTH} characters; shorten it"
            )));
        }
        Ok(q)
    }
}

/// `%` and `_` are wildcards in LIKE: a search for them matches them literally.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn filtered(category: Option<&Category>, q: &str) -> manouche::db::QuerySet<Product> {
    let mut products = Product::objects().filter(Product::active.eq(true));
    if let Some(category) = category {
        products = products.filter(Product::category.eq(category.id));
    }
    if !q.is_empty() {
        let pattern = like_pattern(q);
        products = products.filter(
            Product::name.like(pattern.clone()).escape('\\').or(Product::description.like(pattern).escape('\\')),
        );
    }
    products
}

#[derive(Template)]
#[template(path = "shop/product_list.html")]
struct ProductList {
    ctx: RequestContext,
    products: Vec<Product>,
    /// Each category with how many active products it holds.
    categories: Vec<(Category, i64)>,
    category: Option<String>,
    q: String,
    page: i64,
    pages: i64,
}

impl ProductList {
    /// A link to another page keeping the filters.
    fn page_url(&self, page: &i64) -> Result<String, manouche::urls::NoReverseMatch> {
        let page = page.to_string();
        let mut params = vec![("page", page.as_str())];
        if let Some(category) = &self.category {
            params.push(("category", category));
        }
        if !self.q.is_empty() {
            params.push(("q", &self.q));
        }
        Ok(format!("{}?{}", product_list::url()?, manouche::http::urlencode(params)))
    }
}

/// `/products/`: the catalogue, cached for a quarter of an hour and dropped as soon as a
/// product or category changes (per visitor once the page shows their session: their cart
/// count, their name).
#[view(GET)]
#[cache_page(60 * 15, depends_on = [Product, Category])]
pub async fn product_list(req: Request, query: Query<ListQuery>) -> manouche::Result<HttpResponse> {
    let db = req.db();
    let query = query.into_inner();
    // Count("products", filter=Q(products__active=True)): in the same query as the categories.
    let active = manouche::db::count_related(Product::category).filter(Product::active.eq(true));
    let categories = Category::objects().order_by(Category::name.asc()).annotate(active).all(&db).await?;
    let category = match &query.category {
        Some(slug) => Some(
            categories
                .iter()
                .map(|(c, _)| c)
                .find(|c| &c.slug == slug)
                .cloned()
                .ok_or_else(|| manouche::http::Error::not_found(format!("no category `{slug}`")))?,
        ),
        None => None,
    };
    let q = query.search()?.to_owned();
    let (filter_category, search) = (category.clone(), q.clone());
    let make = move || {
        filtered(filter_category.as_ref(), &search).order_by(Product::name.asc()).select_related(Product::category) // joined: the same query, not one per product
    };
    // Out of range is a 404, as Django's list views answer.
    let page = Paginator::new(make, PAGE_SIZE).page(&db, query.page.unwrap_or(1)).await?;
    render(&ProductList {
        ctx: req.context(),
        products: page.object_list,
        categories,
        category: category.map(|c| c.slug),
        q,
        page: page.number,
        pages: page.num_pages,
    })
}

#[derive(Template)]
#[template(path = "shop/product_detail.html")]
struct ProductDetail {
    ctx: RequestContext,
    product: Product,
    category: std::sync::Arc<Category>,
    tags: Vec<Tag>,
    reviews: Vec<Review>,
    max_quantity: u32,
    /// The visitor may withdraw it (an editor).
    can_publish: bool,
}

/// `/products/<slug>/`: one product; 404 when unknown. Cached like the list, and dropped when
/// its product, category, tags or reviews change.
#[view(GET)]
#[cache_page(60 * 15, depends_on = [Product, Category, Tag, ProductTags, Review])]
pub async fn product_detail(req: Request, slug: Path<String>) -> manouche::Result<HttpResponse> {
    let slug = slug.into_inner();
    // One trip to the blocking pool for the three queries.
    let (product, category, tags, reviews) = req
        .db()
        .run(move |conn| {
            let product = Product::objects()
                .select_related(Product::category)
                .filter(Product::slug.eq(slug))
                .filter(Product::active.eq(true))
                .get_sync(conn)?;
            let category = product.category.fetch_sync(conn)?; // loaded by the join: no query
            let tags = product.tags().all_sync(conn)?;
            let reviews = product.reviews().select_related(Review::customer).all_sync(conn)?;
            Ok((product, category, tags, reviews))
        })
        .await?;
    render(&ProductDetail {
        ctx: req.context(),
        product,
        category,
        tags,
        reviews,
        max_quantity: super::cart::MAX_QUANTITY,
        can_publish: manouche::auth::has_perm(&req, Product::PERM_PUBLISH).await?,
    })
}

/// The JSON page of products.
#[derive(Debug, Serialize)]
struct ApiPage {
    count: i64,
    results: Vec<Product>,
}

/// `/api/products/`: every active product as JSON (same filters as the list).
#[view(GET)]
pub async fn api_products(req: Request, query: Query<ListQuery>) -> manouche::Result<Json<impl Serialize>> {
    let db = req.db();
    let query = query.into_inner();
    let category = match &query.category {
        Some(slug) => Some(Category::objects().filter(Category::slug.eq(slug.clone())).get(&db).await?),
        None => None,
    };
    let q = query.search()?;
    let count = filtered(category.as_ref(), q).count(&db).await?;
    let results = filtered(category.as_ref(), q).order_by(Product::id.asc()).all(&db).await?;
    Ok(Json(ApiPage { count, results }))
}

/// `/api/products/<id>/`: one product as JSON; 404 when unknown.
#[view(GET)]
pub async fn api_product(req: Request, id: Path<i64>) -> manouche::Result<Json<Product>> {
    let id = id.into_inner();
    let product = Product::objects().get_by_pk(&req.db(), id).await?;
    Ok(Json(product))
}

/// The review form: stars and a few words.
#[derive(manouche::forms::Form, Debug)]
pub struct ReviewForm {
    /// 1 to 5 (a select of `Stars`).
    rating: super::models::Stars,
    /// What the customer thought.
    #[form(textarea, max_length = 2000, label = "Your review")]
    body: String,
}

#[derive(Template)]
#[template(path = "shop/review.html")]
struct ReviewPage {
    ctx: RequestContext,
    product: Product,
    form: manouche::forms::FormHtml,
}

/// `/products/<slug>/review/`: a logged-in customer reviews a product, once.
#[view(GET, POST)]
#[login_required]
pub async fn review(
    req: Request,
    slug: Path<String>,
    data: manouche::forms::FormData,
) -> manouche::Result<HttpResponse> {
    use manouche::forms::Form as _;
    let slug = slug.into_inner();
    let product =
        Product::objects().filter(Product::slug.eq(slug)).filter(Product::active.eq(true)).get(&req.db()).await?;
    let mut form = ReviewForm::form(&data);
    if let Some(review) = form.cleaned() {
        let Some(user) = req.user()?.get().cloned() else { return manouche::auth::redirect_to_login(&req) };
        let (rating, body, product_id) = (review.rating, review.body.clone(), product.id);
        let saved = req
            .db()
            .run(move |conn| {
                let customer = super::checkout::customer_of(conn, &user)?;
                let already = Review::objects()
                    .filter(Review::product.eq(product_id))
                    .filter(Review::customer.eq(customer.id))
                    .exists_sync(conn)?;
                if already {
                    return Ok(false);
                }
                let review = Review {
                    id: 0,
                    product: manouche::db::ForeignKey::new(product_id),
                    customer: manouche::db::ForeignKey::new(customer.id),
                    rating,
                    body,
                    created_at: manouche::db::now(),
                };
                review.save_sync(conn).map(|_| true)
            })
            .await?;
        if saved {
            req.messages()?.success(format!("Thank you for reviewing {}.", product.name))?;
            return Ok(manouche::http::redirect(&product_detail::url(product.slug.as_str())?));
        }
        form.add_error(None, "You have already reviewed this tea.");
    }
    let action = review::url(product.slug.as_str())?;
    let form = form.render(&req.context(), &action, "Post the review");
    render(&ReviewPage { ctx: req.context(), product, form })
}
