//! Raw SQL with one placeholder style (`?`) on both backends.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use diesel::RunQueryDsl;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};

use super::{AnyConnection, Backend, Database, Error, MultiBackend};

type Boxed = BoxedSqlQuery<'static, MultiBackend, SqlQuery>;
type Binder = Box<dyn FnOnce(Boxed) -> Boxed + Send>;

/// A raw SQL statement, Django's `Manager.raw()`: write `?` for each parameter whatever the
/// backend (it becomes `$1`, `$2`, ... on PostgreSQL), bind values with their Diesel SQL types,
/// and read the rows as models (columns matched by name) or any `QueryableByName` struct.
///
/// ```
/// # use manouche::prelude::*;
/// # use diesel::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub price_cents: i64 }
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// use diesel::sql_types::{BigInt, Text};
/// let cheap: Vec<Tea> = Tea::raw("SELECT * FROM shop_tea WHERE price_cents < ? AND name <> ?")
///     .bind::<BigInt, _>(1000)
///     .bind::<Text, _>("Decaf")
///     .all_sync(conn)?;
/// # Ok(()) }
/// ```
pub struct RawQuery<T> {
    sql: String,
    binds: Vec<Binder>,
    _rows: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for RawQuery<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawQuery").field("sql", &self.sql).field("binds", &self.binds.len()).finish()
    }
}

impl<T> RawQuery<T> {
    /// A statement whose rows read as `T`.
    pub fn new(sql: impl Into<String>) -> Self {
        RawQuery { sql: sql.into(), binds: Vec::new(), _rows: PhantomData }
    }

    /// Binds the next `?` to `value`, sent as SQL type `ST` (`diesel::sql_types::BigInt`, ...).
    #[must_use]
    pub fn bind<ST, V>(mut self, value: V) -> Self
    where
        MultiBackend: diesel::sql_types::HasSqlType<ST>,
        V: diesel::serialize::ToSql<ST, MultiBackend> + Send + 'static,
        ST: Send + 'static,
    {
        self.binds.push(Box::new(move |query: Boxed| query.bind::<ST, V>(value)));
        self
    }

    fn build(self, backend: Backend) -> Boxed {
        let sql = placeholders(&self.sql, backend);
        let mut query = diesel::sql_query(sql.into_owned()).into_boxed::<MultiBackend>();
        for bind in self.binds {
            query = bind(query);
        }
        query
    }

    /// Every row.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the statement fails or a column is missing.
    pub fn all_sync(self, conn: &mut AnyConnection) -> Result<Vec<T>, Error>
    where
        T: diesel::QueryableByName<MultiBackend> + 'static,
    {
        let backend = conn.backend();
        Ok(self.build(backend).load(conn)?)
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the statement fails.
    pub fn execute_sync(self, conn: &mut AnyConnection) -> Result<usize, Error> {
        let backend = conn.backend();
        Ok(self.build(backend).execute(conn)?)
    }

    /// [`RawQuery::all_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`RawQuery::all_sync`], plus [`Error::Unavailable`].
    pub async fn all(self, db: &Database) -> Result<Vec<T>, Error>
    where
        T: diesel::QueryableByName<MultiBackend> + Send + 'static,
    {
        db.run(move |conn| self.all_sync(conn)).await
    }
}

/// A raw SQL statement whose rows are plain tuples of the SQL types `ST`: Django's
/// `cursor.fetchall()`, typed. Placeholders and binds work as in [`RawQuery`].
///
/// ```
/// # use manouche::prelude::*;
/// # #[model(app = "shop")] pub struct Tea { #[field(primary_key, auto)] pub id: i64, pub name: String, pub price_cents: i64 }
/// # fn demo(conn: &mut manouche::db::Connection) -> Result<(), manouche::db::Error> {
/// use diesel::sql_types::{BigInt, Text};
/// use manouche::db::RawRows;
/// let dear: Vec<(String, i64)> = RawRows::<(Text, BigInt)>::new("SELECT name, price_cents FROM shop_tea WHERE price_cents > ?")
///     .bind::<BigInt, _>(1000)
///     .all_sync(conn)?;
/// let count: i64 = RawRows::<BigInt>::new("SELECT COUNT(*) FROM shop_tea").one_sync(conn)?;
/// # Ok(()) }
/// ```
pub struct RawRows<ST> {
    raw: RawQuery<()>,
    _types: PhantomData<fn() -> ST>,
}

impl<ST> fmt::Debug for RawRows<ST> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRows").field("sql", &self.raw.sql).field("binds", &self.raw.binds.len()).finish()
    }
}

impl<ST: 'static> RawRows<ST> {
    /// A statement whose columns have the SQL types `ST` (a tuple, or one type for one column).
    pub fn new(sql: impl Into<String>) -> Self {
        RawRows { raw: RawQuery::new(sql), _types: PhantomData }
    }

    /// Binds the next `?` to `value`, sent as SQL type `BST`.
    #[must_use]
    pub fn bind<BST, V>(self, value: V) -> Self
    where
        MultiBackend: diesel::sql_types::HasSqlType<BST>,
        V: diesel::serialize::ToSql<BST, MultiBackend> + Send + 'static,
        BST: Send + 'static,
    {
        RawRows { raw: self.raw.bind::<BST, V>(value), _types: PhantomData }
    }

    fn build(self, backend: Backend) -> Typed<ST> {
        Typed { query: self.raw.build(backend), _types: PhantomData }
    }

    /// Every row.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the statement fails or a column does not read as its type.
    pub fn all_sync<T>(self, conn: &mut AnyConnection) -> Result<Vec<T>, Error>
    where
        Typed<ST>: diesel::query_dsl::LoadQuery<'static, AnyConnection, T>,
    {
        let backend = conn.backend();
        Ok(self.build(backend).load(conn)?)
    }

    /// The first row (an aggregate's one row).
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the statement fails or returns no row.
    pub fn one_sync<T>(self, conn: &mut AnyConnection) -> Result<T, Error>
    where
        Typed<ST>: diesel::query_dsl::LoadQuery<'static, AnyConnection, T>,
    {
        let backend = conn.backend();
        Ok(self.build(backend).get_result(conn)?)
    }

    /// [`RawRows::all_sync`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`RawRows::all_sync`], plus [`Error::Unavailable`].
    pub async fn all<T: Send + 'static>(self, db: &Database) -> Result<Vec<T>, Error>
    where
        Typed<ST>: diesel::query_dsl::LoadQuery<'static, AnyConnection, T>,
    {
        db.run(move |conn| self.all_sync(conn)).await
    }
}

/// A built raw statement with the row type `ST`, as Diesel loads it.
#[doc(hidden)]
pub struct Typed<ST> {
    query: Boxed,
    _types: PhantomData<fn() -> ST>,
}

impl<ST> fmt::Debug for Typed<ST> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Typed")
    }
}

impl<ST> diesel::query_builder::QueryId for Typed<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST: diesel::sql_types::SqlType> diesel::query_builder::Query for Typed<ST> {
    type SqlType = ST;
}

impl<ST> diesel::query_builder::QueryFragment<MultiBackend> for Typed<ST> {
    fn walk_ast<'b>(&'b self, pass: diesel::query_builder::AstPass<'_, 'b, MultiBackend>) -> diesel::QueryResult<()> {
        self.query.walk_ast(pass)
    }
}

impl<ST, Conn> RunQueryDsl<Conn> for Typed<ST> {}

/// `?` → `$1`, `$2`, ... for PostgreSQL, leaving quoted strings, quoted identifiers and
/// comments alone; SQLite takes `?` as written.
pub(crate) fn placeholders(sql: &str, backend: Backend) -> Cow<'_, str> {
    if backend != Backend::Postgres || !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    // Byte positions of ASCII marks only, so every slice falls on a character boundary; the text
    // between marks is copied in one go.
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let (mut i, mut copied, mut n) = (0, 0, 0u32);
    let after = |from: usize, byte: u8| bytes[from..].iter().position(|b| *b == byte).map(|p| from + p + 1);
    while i < bytes.len() {
        // Straight to the next mark.
        match bytes[i..].iter().position(|b| matches!(b, b'?' | b'\'' | b'"' | b'-')) {
            Some(p) => i += p,
            None => break,
        }
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                // To the closing quote; a doubled quote is an escaped one.
                i += 1;
                loop {
                    match after(i, quote) {
                        Some(end) if bytes.get(end) == Some(&quote) => i = end + 1,
                        Some(end) => {
                            i = end;
                            break;
                        }
                        None => {
                            i = bytes.len();
                            break;
                        }
                    }
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = after(i, b'\n').unwrap_or(bytes.len()),
            b'?' => {
                out.push_str(&sql[copied..i]);
                n += 1;
                push_placeholder(&mut out, n);
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

/// Writes `$n` without the formatting machinery (a statement of many rows has hundreds).
fn push_placeholder(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push('$');
    // ASCII digits.
    out.extend(digits[start..].iter().map(|d| char::from(*d)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_marks_become_numbered_on_postgres_only() {
        let sql = "SELECT '?' AS q, \"a?\" FROM t WHERE a = ? AND b = 'it''s ?' AND c = ? -- why?\nAND d = ?";
        assert_eq!(
            placeholders(sql, Backend::Postgres),
            "SELECT '?' AS q, \"a?\" FROM t WHERE a = $1 AND b = 'it''s ?' AND c = $2 -- why?\nAND d = $3"
        );
        assert_eq!(placeholders(sql, Backend::Sqlite), sql);
        // Text beside the marks is copied whole, whatever its characters; an unclosed quote or
        // a final comment runs to the end.
        assert_eq!(placeholders("é = ? ∧ ü = ?", Backend::Postgres), "é = $1 ∧ ü = $2");
        assert_eq!(placeholders("a = ? AND b = 'open ?", Backend::Postgres), "a = $1 AND b = 'open ?");
        assert_eq!(placeholders("a = ? -- ?", Backend::Postgres), "a = $1 -- ?");
        assert_eq!(placeholders("a - ? - 1", Backend::Postgres), "a - $1 - 1");
        let many = ["?"; 12].join(",");
        assert!(placeholders(&many, Backend::Postgres).ends_with("$11,$12"));
        let more = ["?"; 120].join(",");
        assert!(placeholders(&more, Backend::Postgres).starts_with("$1,$2,"));
        assert!(placeholders(&more, Backend::Postgres).ends_with("$99,$100,$101,$102,$103,$104,$105,$106,$107,$108,$109,$110,$111,$112,$113,$114,$115,$116,$117,$118,$119,$120"));
    }
}
