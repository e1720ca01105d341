//! What `#[login_required]`, `#[staff_member_required]`, `#[permission_required(...)]` and
//! `#[user_passes_test(...)]` on a `#[view]` check before the view runs.

use actix_web::HttpResponse;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{AuthSettings, RequestUser};
use crate::http::Request;

/// A view's access rule.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Guard {
    /// Logged in.
    Login,
    /// Active staff.
    Staff,
    /// Logged in with every listed permission; 403 for a user without them.
    Permissions(&'static [crate::db::Permission]),
    /// The function accepts the user.
    Test(fn(&RequestUser) -> bool),
}

/// What `next` keeps unescaped: Django's `QueryDict.urlencode(safe="/")`.
const NEXT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// A redirect to the login page with `?next=` the current path and query (Django's
/// `redirect_to_login`).
///
/// # Errors
///
/// A bad `[auth]` section.
pub fn redirect_to_login(req: &Request) -> crate::Result<HttpResponse> {
    let settings: AuthSettings = req.settings().section()?;
    let mut next = req.path().to_owned();
    if !req.query_string().is_empty() {
        next.push('?');
        next.push_str(req.query_string());
    }
    let separator = if settings.login_url.contains('?') { '&' } else { '?' };
    let location = format!("{}{separator}next={}", settings.login_url, utf8_percent_encode(&next, NEXT));
    Ok(crate::http::redirect(&location))
}

/// Checks `guard` for the request: `None` lets the view run, `Some` answers instead (a redirect
/// to the login page, or 403 for a logged-in user without a permission).
///
/// # Errors
///
/// [`crate::Error::ImproperlyConfigured`] without the `manouche.auth` middleware; a database
/// error loading permissions.
pub async fn check(req: &Request, guard: Guard) -> crate::Result<Option<HttpResponse>> {
    let user = req.user()?;
    let allowed = match guard {
        Guard::Login => user.is_authenticated(),
        Guard::Staff => user.is_staff(),
        Guard::Test(test) => test(&user),
        Guard::Permissions(perms) => {
            if user.is_anonymous() {
                false
            } else if super::has_perms(req, perms).await? {
                true
            } else {
                let names: Vec<String> = perms.iter().map(ToString::to_string).collect();
                return Err(crate::http::Error::permission_denied(format!(
                    "`{}` lacks the permission {}",
                    user.username(),
                    names.join(", ")
                ))
                .into());
            }
        }
    };
    if allowed { Ok(None) } else { redirect_to_login(req).map(Some) }
}
