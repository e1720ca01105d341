//! `use manouche::prelude::*;` gives an app module what it uses every day.

pub use crate::conf::Settings;
pub use crate::db::{
    Choices, Date, DateTime, DateTimeTz, Decimal, ForeignKey, Model, OneToOne, Uuid, post_delete, post_save,
    pre_delete, pre_save,
};
pub use crate::http::{Form, HttpRequest, HttpResponse, Json, Path, Query, Request, RequestContext, Responder};
pub use crate::project::{App, Project};
pub use crate::tasks::TaskContext;
pub use crate::templates::{Template, filters, render};
pub use crate::urlpatterns;
/// Diesel's expression and query traits: `.eq()`, `.lt()`, `.like()`, `.desc()`, `.and()` on model
/// columns, and `.load()`/`.execute()` for plain Diesel queries.
pub use diesel::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, NullableExpressionMethods, RunQueryDsl,
    TextExpressionMethods,
};
pub use manouche_macros::{
    Choices, Template, cache_control, cache_page, login_required, many_to_many, model, never_cache, permission,
    permission_required, ratelimit, receiver, staff_member_required, task, user_passes_test, vary_on_cookie,
    vary_on_headers, view,
};
