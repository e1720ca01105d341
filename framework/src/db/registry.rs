//! The model registry: every `#[model]` of the program, driven by names and text values
//! (Django's `apps.get_model` plus what a `ModelAdmin` needs). The admin, model forms and
//! `dumpdata`/`loaddata` work through it, with the same query sets and signals as typed code.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use diesel::dsl::CountStar;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{LimitDsl, OffsetDsl, SelectDsl};

use super::{AnyConnection, Error, Field, FieldType, ModelMeta, ModelText, Value};

/// Which rows of a model to list: filters, a search, an ordering and a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// `(field, text)`: rows whose field equals the value (an empty text is NULL when nullable).
    pub filters: Vec<(String, String)>,
    /// `(field, from, before)`: rows whose date or time field is at least `from` and before
    /// `before` (Django's `__gte`/`__lt` of the admin's date filter).
    pub ranges: Vec<(String, Option<String>, Option<String>)>,
    /// Rows where every word of this is in one of the `search_fields`, ignoring case (Django's
    /// admin search).
    pub search: Option<String>,
    /// The text fields searched; none means every text field. `key.field` searches a field of
    /// a foreign key's target (`category.name`).
    pub search_fields: Vec<String>,
    /// `(field, descending)` terms; none means the model's default ordering.
    pub ordering: Vec<(String, bool)>,
    /// The page, from 1.
    pub page: i64,
    /// Rows a page.
    pub per_page: u32,
}

impl Default for ListRequest {
    fn default() -> Self {
        ListRequest {
            filters: Vec::new(),
            ranges: Vec::new(),
            search: None,
            search_fields: Vec::new(),
            ordering: Vec::new(),
            page: 1,
            per_page: 100,
        }
    }
}

/// One row as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The primary key as text (what [`Registered::get`] takes back).
    pub pk: String,
    /// The row as one line ([`ModelText::display`]).
    pub display: String,
    /// Each field's value as text, in declaration order.
    pub values: Vec<(&'static str, String)>,
}

impl Row {
    /// The text of a field.
    pub fn value(&self, field: &str) -> Option<&str> {
        self.values.iter().find(|(name, _)| *name == field).map(|(_, text)| text.as_str())
    }
}

/// A page of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowPage {
    /// The rows of this page.
    pub rows: Vec<Row>,
    /// Rows matching in all pages.
    pub count: i64,
    /// This page's number.
    pub page: i64,
    /// How many pages there are (at least 1).
    pub num_pages: i64,
}

/// A model of the registry, type-erased. Get one with [`model`] or [`models`].
pub trait Registered: Send + Sync {
    /// The model's metadata.
    fn meta(&self) -> &'static ModelMeta;

    /// A page of rows: Django's change list.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an unknown field or a filter value of the wrong type,
    /// [`Error::InvalidPage`] for a page out of range, [`Error::Query`] when a query fails.
    fn list(&self, conn: &mut AnyConnection, request: &ListRequest) -> Result<RowPage, Error>;

    /// The row with this primary key (given as text).
    ///
    /// # Errors
    ///
    /// [`Error::DoesNotExist`] (also for a key that is not a value of the key's type).
    fn get(&self, conn: &mut AnyConnection, pk: &str) -> Result<Row, Error>;

    /// Validates `values` (field name → text) and saves a new row, sending `pre_save` and
    /// `post_save`. Fields not given get their default (or now, for `auto_now` fields).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] with every field's problem; [`Error::Query`] when the insert fails.
    fn create(&self, conn: &mut AnyConnection, values: &BTreeMap<String, String>) -> Result<Row, Error>;

    /// Validates `values` and saves them into the row with this key (fields not given keep
    /// their values), sending `pre_save` and `post_save`.
    ///
    /// # Errors
    ///
    /// As [`Registered::get`] and [`Registered::create`].
    fn update(&self, conn: &mut AnyConnection, pk: &str, values: &BTreeMap<String, String>) -> Result<Row, Error>;

    /// Deletes the row with this key and what its relations' `on_delete` rules reach
    /// ([`super::collector`]), each row with `pre_delete` and `post_delete`; returns what went.
    ///
    /// # Errors
    ///
    /// As [`Registered::get`]; [`Error::Protected`] naming the rows a `protect` relation keeps.
    fn delete(&self, conn: &mut AnyConnection, pk: &str) -> Result<super::Collected, Error>;

    /// Every row, by primary key: what `dumpdata` writes.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the query fails.
    fn dump(&self, conn: &mut AnyConnection) -> Result<Vec<Row>, Error>;

    /// Saves a row with the key and values a fixture gives (every field, as text): updated
    /// when the key exists, inserted with that key otherwise (Django's `loaddata`, which also
    /// skips form validation). An update is a `save`, with its signals and `auto_now` stamps; an
    /// insert sends no signal, as `bulk_create` does.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for values that are not values of their fields' types;
    /// [`Error::Query`] when the statement fails.
    fn load(&self, conn: &mut AnyConnection, pk: &str, values: &BTreeMap<String, String>) -> Result<(), Error>;

    /// The rows with these keys (unknown keys are skipped), in one query a chunk.
    #[doc(hidden)]
    fn rows_with_keys(&self, conn: &mut AnyConnection, keys: &[String]) -> Result<Vec<Row>, Error>;

    /// `(primary key, display)` of the rows with these keys (unknown keys are skipped).
    #[doc(hidden)]
    fn rows_by_keys(&self, conn: &mut AnyConnection, keys: &[String]) -> Result<Vec<(String, String)>, Error>;

    /// `(primary key, display)` of the rows whose `field` is one of `keys`.
    #[doc(hidden)]
    fn referring_rows(
        &self,
        conn: &mut AnyConnection,
        field: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, Error>;

    /// Deletes the rows with these keys, each with `pre_delete` and `post_delete`, without
    /// collecting: the collector has done that.
    #[doc(hidden)]
    fn delete_keys(&self, conn: &mut AnyConnection, keys: &[String]) -> Result<usize, Error>;

    /// Sets `field` of the rows with these keys to its default, in bulk and without signals
    /// (the collector's `set_default`, as Django's field updates).
    #[doc(hidden)]
    fn set_default_keys(&self, conn: &mut AnyConnection, field: &str, keys: &[String]) -> Result<usize, Error>;
}

impl fmt::Debug for dyn Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Registered({})", self.meta().label())
    }
}

/// The registry entry `#[model]` submits for a model.
#[doc(hidden)]
pub struct Entry<M>(PhantomData<fn() -> M>);

impl<M> Entry<M> {
    #[doc(hidden)]
    pub const fn new() -> Self {
        Entry(PhantomData)
    }
}

impl<M> fmt::Debug for Entry<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Entry")
    }
}

/// The model registered under `app.Model` (`"shop.Product"`, case-insensitive like Django's
/// `apps.get_model`).
pub fn model(label: &str) -> Option<&'static dyn Registered> {
    // Run on every delete (the collector): no sorting, no label built per model.
    let (app, name) = label.split_once('.')?;
    inventory::iter::<super::model::ModelEntry>()
        .map(|e| e.model)
        .find(|m| m.meta().app.eq_ignore_ascii_case(app) && m.meta().name.eq_ignore_ascii_case(name))
}

/// Every registered model, sorted by app and name.
pub fn models() -> Vec<&'static dyn Registered> {
    let mut all: Vec<&'static dyn Registered> =
        inventory::iter::<super::model::ModelEntry>().map(|e| e.model).collect();
    all.sort_by_key(|m| (m.meta().app, m.meta().name));
    all
}

fn row<M: ModelText>(instance: &M) -> Row {
    Row { pk: super::FieldValue::to_text(&instance.pk()), display: instance.display(), values: instance.to_texts() }
}

fn invalid(meta: &ModelMeta, errors: Vec<(String, String)>) -> Error {
    Error::InvalidInput { model: meta.name, errors }
}

/// The text a field gets when a new row is created without it: its default, now for
/// `auto_now` fields, `0` for an `auto` key (the database assigns it), else empty.
pub(crate) fn initial_text(field: &Field) -> String {
    if field.auto {
        return "0".into();
    }
    if field.auto_now || field.auto_now_add {
        return match field.ty {
            FieldType::Date => super::today().format("%Y-%m-%d").to_string(),
            _ => super::now().format("%Y-%m-%d %H:%M:%S%.f").to_string(),
        };
    }
    match &field.default {
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Int(n)) => n.to_string(),
        Some(Value::Float(x)) => x.to_string(),
        Some(Value::Text(text)) => text.to_string(),
        Some(Value::Expression(_)) | None => String::new(),
    }
}

/// Django's field validation before conversion: required, `max_length`, decimal digits.
fn check(field: &Field, text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        let optional = field.blank || field.nullable || field.ty == FieldType::Bool;
        return (!optional).then(|| "This field is required.".to_owned());
    }
    if let Some(max) = field.max_length {
        let length = trimmed.chars().count();
        if length > max as usize {
            return Some(format!("Ensure this value has at most {max} characters (it has {length})."));
        }
    }
    if field.ty == FieldType::Decimal
        && let Ok(number) = trimmed.parse::<rust_decimal::Decimal>()
    {
        return super::field::decimal_problem(number, field.max_digits, field.decimal_places);
    }
    None
}

impl<M> Registered for Entry<M>
where
    M: ModelText,
    M::Query: SelectDsl<CountStar>
        + LimitDsl<Output = M::Query>
        + OffsetDsl<Output = M::Query>
        + LoadQuery<'static, AnyConnection, M>,
    <M::Query as SelectDsl<CountStar>>::Output: LoadQuery<'static, AnyConnection, i64>,
{
    fn meta(&self) -> &'static ModelMeta {
        M::meta()
    }

    fn list(&self, conn: &mut AnyConnection, request: &ListRequest) -> Result<RowPage, Error> {
        let meta = M::meta();
        if let Some((field, _)) = request.ordering.iter().find(|(f, _)| meta.field(f).is_none()) {
            return Err(invalid(
                meta,
                vec![(field.clone(), format!("{} has no field `{field}` to order by", meta.name))],
            ));
        }
        // A search word found in a related row's field matches the rows pointing to it: their
        // keys, found once for the count and the page.
        let words: Vec<&str> = request.search.as_deref().map(|s| s.split_whitespace().collect()).unwrap_or_default();
        let own: Vec<&str> = request.search_fields.iter().map(String::as_str).filter(|f| !f.contains('.')).collect();
        let related: Vec<(&str, &str)> = request.search_fields.iter().filter_map(|f| f.split_once('.')).collect();
        let mut related_keys: Vec<Vec<String>> = Vec::with_capacity(words.len());
        for word in &words {
            let mut keys = Vec::new();
            for (key_field, target_field) in &related {
                let target = meta
                    .field(key_field)
                    .and_then(|f| f.relation.as_ref())
                    .and_then(|r| model(&r.to.label()))
                    .ok_or_else(|| {
                        invalid(
                            meta,
                            vec![((*key_field).to_owned(), format!("{} has no foreign key `{key_field}`", meta.name))],
                        )
                    })?;
                let found = target.list(
                    conn,
                    &ListRequest {
                        search: Some((*word).to_owned()),
                        search_fields: vec![(*target_field).to_owned()],
                        per_page: u32::MAX,
                        ..ListRequest::default()
                    },
                )?;
                let target_keys: Vec<String> = found.rows.into_iter().map(|r| r.pk).collect();
                if !target_keys.is_empty() {
                    keys.extend(self.referring_rows(conn, key_field, &target_keys)?.into_iter().map(|(pk, _)| pk));
                }
            }
            related_keys.push(keys);
        }
        // The count and the page are two queries of the same query set.
        let build = || -> Result<super::QuerySet<M>, Error> {
            let mut query = M::objects().__into_unordered();
            for (field, text) in &request.filters {
                query = M::filter_text(query, field, text)
                    .map_err(|message| invalid(meta, vec![(field.clone(), message)]))?;
            }
            for (field, lower, upper) in &request.ranges {
                query = M::filter_range_text(query, field, lower.as_deref(), upper.as_deref())
                    .map_err(|message| invalid(meta, vec![(field.clone(), message)]))?;
            }
            // Each word must be found in one of the fields (Django's admin search).
            let fields = if request.search_fields.is_empty() { None } else { Some(own.as_slice()) };
            for (word, keys) in words.iter().zip(&related_keys) {
                query = M::search_text(query, word, fields, keys);
            }
            let mut set = super::QuerySet::<M>::__new(query);
            if !request.ordering.is_empty() {
                let ordering = request.ordering.clone();
                // Every field was checked above; an unknown one would leave the order as it is.
                set = set.__order_with(move |query| {
                    ordering.iter().fold(query, |query, (field, descending)| {
                        M::order_text(query, field, *descending).unwrap_or_else(|unchanged| unchanged)
                    })
                });
            }
            Ok(set)
        };
        let count = build()?.count_sync(conn)?;
        // The paginator's arithmetic and checks, on the two query sets made here.
        let pages = super::Paginator::new((), request.per_page);
        let num_pages = pages.num_pages(count);
        pages.validate(request.page, num_pages)?;
        let per_page = i64::from(request.per_page.max(1));
        let rows = build()?.offset((request.page - 1) * per_page).limit(per_page).all_sync(conn)?;
        Ok(RowPage { rows: rows.iter().map(row).collect(), count, page: request.page, num_pages })
    }

    fn get(&self, conn: &mut AnyConnection, pk: &str) -> Result<Row, Error> {
        Ok(row(&find::<M>(conn, pk)?))
    }

    fn create(&self, conn: &mut AnyConnection, values: &BTreeMap<String, String>) -> Result<Row, Error> {
        let meta = M::meta();
        let mut errors = unknown_fields(meta, values);
        for field in meta.fields.iter().filter(|f| f.editable) {
            let text = values.get(field.name.as_ref()).cloned().unwrap_or_else(|| initial_text(field));
            if let Some(message) = check(field, &text) {
                errors.push((field.name.to_string(), message));
            }
        }
        let text = |name: &str| match (values.get(name), meta.field(name)) {
            (Some(text), Some(field)) if field.editable => text.clone(),
            (_, Some(field)) => initial_text(field),
            (_, None) => String::new(),
        };
        let instance = match M::from_texts(&text) {
            Ok(instance) => Some(instance),
            Err(parse_errors) => {
                errors.extend(parse_errors.into_iter().map(|(f, m)| (f.to_owned(), m)));
                None
            }
        };
        // Uniqueness of the fields that are valid, reported beside the others' errors (Django's
        // `validate_unique` after field cleaning).
        let failed: Vec<String> = errors.iter().map(|(f, _)| f.clone()).collect();
        errors.extend(unique_errors::<M>(conn, &text, None, &failed)?);
        let given: Vec<&str> = meta.fields.iter().filter(|f| f.editable).map(|f| f.name.as_ref()).collect();
        errors.extend(missing_targets(conn, meta, &text, &given, &failed)?);
        // One message a field (the first problem found), in field-name order.
        errors.sort_by(|a, b| a.0.cmp(&b.0));
        errors.dedup_by(|a, b| a.0 == b.0);
        let Some(instance) = instance.filter(|_| errors.is_empty()) else {
            return Err(invalid(meta, errors));
        };
        Ok(row(&instance.save_sync(conn)?))
    }

    fn update(&self, conn: &mut AnyConnection, pk: &str, values: &BTreeMap<String, String>) -> Result<Row, Error> {
        let meta = M::meta();
        let mut instance = find::<M>(conn, pk)?;
        let mut errors = unknown_fields(meta, values);
        for (name, text) in values {
            let Some(field) = meta.field(name) else { continue };
            if !field.editable {
                errors.push((name.clone(), "This field cannot be changed.".to_owned()));
                continue;
            }
            if let Some(message) = check(field, text) {
                errors.push((name.clone(), message));
            } else if let Some(Err(message)) = instance.set_text(name, text) {
                errors.push((name.clone(), message));
            }
        }
        let texts = instance.to_texts();
        let text = |name: &str| texts.iter().find(|(n, _)| *n == name).map(|(_, t)| t.clone()).unwrap_or_default();
        let failed: Vec<String> = errors.iter().map(|(f, _)| f.clone()).collect();
        errors.extend(unique_errors::<M>(conn, &text, Some(pk), &failed)?);
        let given: Vec<&str> = values.keys().map(String::as_str).collect();
        errors.extend(missing_targets(conn, meta, &text, &given, &failed)?);
        if !errors.is_empty() {
            return Err(invalid(meta, errors));
        }
        Ok(row(&instance.save_sync(conn)?))
    }

    fn delete(&self, conn: &mut AnyConnection, pk: &str) -> Result<super::Collected, Error> {
        let instance = find::<M>(conn, pk)?;
        let key = super::FieldValue::to_text(&instance.pk());
        super::collector::delete(conn, entry::<M>(), std::slice::from_ref(&key))
    }

    fn dump(&self, conn: &mut AnyConnection) -> Result<Vec<Row>, Error> {
        let by_key = M::objects().__order_with(|query| M::__order_by_pk(query, false));
        Ok(by_key.all_sync(conn)?.iter().map(row).collect())
    }

    fn load(&self, conn: &mut AnyConnection, pk: &str, values: &BTreeMap<String, String>) -> Result<(), Error> {
        let meta = M::meta();
        let key_name = meta.primary_key().map(|f| f.name.as_ref()).unwrap_or("id");
        let text = |name: &str| match (name == key_name, values.get(name), meta.field(name)) {
            (true, _, _) => pk.to_owned(),
            (false, Some(text), _) => text.clone(),
            (false, None, Some(field)) => initial_text(field),
            (false, None, None) => String::new(),
        };
        let mut errors = unknown_fields(meta, values);
        let instance = match M::from_texts(&text) {
            Ok(instance) => Some(instance),
            Err(parse_errors) => {
                errors.extend(parse_errors.into_iter().map(|(f, m)| (f.to_owned(), m)));
                None
            }
        };
        let Some(instance) = instance.filter(|_| errors.is_empty()) else {
            return Err(invalid(meta, errors));
        };
        let exists = !load_keys::<M>(conn, std::slice::from_ref(&pk.to_owned()))?.is_empty();
        if exists { instance.save_sync(conn).map(drop) } else { instance.__insert_keyed(conn).map(drop) }
    }

    fn rows_with_keys(&self, conn: &mut AnyConnection, keys: &[String]) -> Result<Vec<Row>, Error> {
        Ok(load_keys::<M>(conn, keys)?.iter().map(row).collect())
    }

    fn rows_by_keys(&self, conn: &mut AnyConnection, keys: &[String]) -> Result<Vec<(String, String)>, Error> {
        Ok(load_keys::<M>(conn, keys)?.iter().map(|m| (super::FieldValue::to_text(&m.pk()), m.display())).collect())
    }

    fn referring_rows(
        &self,
        conn: &mut AnyConnection,
        field: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, Error> {
        let meta = M::meta();
        let mut found = Vec::new();
        for chunk in keys.chunks(super::BULK_CHUNK) {
            let query = M::filter_in_text(M::objects().__into_unordered(), field, chunk)
                .map_err(|message| invalid(meta, vec![(field.to_owned(), message)]))?;
            let rows = super::QuerySet::<M>::__new(query).all_sync(conn)?;
            found.extend(rows.iter().map(|m| (super::FieldValue::to_text(&m.pk()), m.display())));
        }
        Ok(found)
    }

    fn set_default_keys(&self, conn: &mut AnyConnection, field: &str, keys: &[String]) -> Result<usize, Error> {
        let meta = M::meta();
        let described =
            meta.field(field).ok_or_else(|| invalid(meta, vec![(field.to_owned(), "no such field".into())]))?;
        let default = initial_text(described);
        let mut rows = load_keys::<M>(conn, keys)?;
        for row in &mut rows {
            if let Some(Err(message)) = row.set_text(field, &default) {
                return Err(invalid(meta, vec![(field.to_owned(), message)]));
            }
        }
        super::bulk::update_columns(conn, &rows, vec![&*described.column])
    }

    fn delete_keys(&self, conn: &mut AnyConnection, keys: &[String]) -> Result<usize, Error> {
        let rows = load_keys::<M>(conn, keys)?;
        let events: Vec<super::DeleteEvent<M>> = rows.into_iter().map(super::DeleteEvent::__new).collect();
        for event in &events {
            super::pre_delete::<M>().send(event);
        }
        let pks = events.iter().map(|e| e.instance.pk()).collect();
        let deleted = M::__delete_matching(M::__filter_pks(M::objects().__into_unordered(), pks), conn)?;
        for event in &events {
            super::post_delete::<M>().send(event);
        }
        Ok(deleted)
    }
}

/// The registry entry of `M`, as a trait object (what [`model`] finds by label, without the search).
pub fn entry<M>() -> &'static dyn Registered
where
    Entry<M>: Registered,
    M: 'static,
{
    // `Entry<M>` is zero-sized: a promoted constant, no allocation.
    const { &Entry::<M>::new() }
}

/// The instances with these keys (given as text; keys that do not parse match nothing).
pub(crate) fn load_keys<M>(conn: &mut AnyConnection, keys: &[String]) -> Result<Vec<M>, Error>
where
    M: ModelText,
    M::Query: LoadQuery<'static, AnyConnection, M>,
{
    let mut found = Vec::new();
    for chunk in keys.chunks(super::BULK_CHUNK) {
        let pks: Vec<M::PrimaryKey> =
            chunk.iter().filter_map(|k| <M::PrimaryKey as super::FieldValue>::from_text(k).ok()).collect();
        if pks.is_empty() {
            continue;
        }
        let query = M::__filter_pks(M::objects().__into_unordered(), pks);
        found.extend(super::QuerySet::<M>::__new(query).all_sync(conn)?);
    }
    Ok(found)
}

/// Django's "Select a valid choice" for a foreign key in `given` that names no row: checked
/// before saving, so input never reaches the database's constraint (an error there is a 500).
fn missing_targets(
    conn: &mut AnyConnection,
    meta: &ModelMeta,
    text: &dyn Fn(&str) -> String,
    given: &[&str],
    failed: &[String],
) -> Result<Vec<(String, String)>, Error> {
    let mut errors = Vec::new();
    for field in meta.fields.iter().filter(|f| given.contains(&f.name.as_ref()) && !failed.iter().any(|n| *n == f.name))
    {
        let Some(target) = field.relation.as_ref().and_then(|r| model(&r.to.label())) else { continue };
        let key = text(&field.name).trim().to_owned();
        if key.is_empty() {
            continue;
        }
        if target.rows_by_keys(conn, std::slice::from_ref(&key))?.is_empty() {
            errors.push((
                field.name.to_string(),
                "Select a valid choice. That choice is not one of the available choices.".to_owned(),
            ));
        }
    }
    Ok(errors)
}

/// Django's `validate_unique`: a unique field, or a `unique_together` group, whose value another
/// row (not the one with key `own`) has already. A group's error belongs to the form as a whole
/// (an empty field name), as Django's `NON_FIELD_ERRORS`.
///
/// `text` gives each field's value as text; fields in `failed` (whose value did not validate)
/// are not checked, as Django leaves them out of `validate_unique`.
fn unique_errors<M>(
    conn: &mut AnyConnection,
    text: &dyn Fn(&str) -> String,
    own: Option<&str>,
    failed: &[String],
) -> Result<Vec<(String, String)>, Error>
where
    M: ModelText,
    M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
{
    let meta = M::meta();
    let text_of = |name: &str| (!failed.iter().any(|f| f == name)).then(|| text(name));
    let own = own.map(str::to_owned);
    let mut errors = Vec::new();
    let mut groups: Vec<(Vec<&Field>, bool)> =
        meta.fields.iter().filter(|f| f.unique && !f.primary_key).map(|f| (vec![f], true)).collect();
    for group in meta.unique_together {
        let fields: Vec<&Field> = group
            .iter()
            .filter_map(|column| meta.fields.iter().find(|f| f.column == *column || f.name == *column))
            .collect();
        if fields.len() == group.len() {
            groups.push((fields, false));
        }
    }
    for (fields, single) in groups {
        // `None` once a field of the group cannot take part (failed, empty and nullable, or not
        // a value of its type: its own error says so).
        let mut query = Some(M::objects().__into_unordered());
        for field in &fields {
            let Some(current) = query.take() else { break };
            let Some(text) = text_of(&field.name) else { break };
            let text = text.trim().to_owned();
            // NULL is never equal to NULL: no conflict (as the database's constraint).
            if text.is_empty() && field.nullable {
                break;
            }
            query = M::filter_text(current, &field.name, &text).ok();
        }
        let Some(query) = query else { continue };
        let clashing = super::QuerySet::<M>::__new(query).limit(2).all_sync(conn)?;
        if clashing.iter().any(|other| Some(super::FieldValue::to_text(&other.pk())) != own) {
            let names: Vec<String> = fields.iter().map(|f| super::text::capitalize(&f.verbose_name)).collect();
            let message = format!(
                "{} with this {} already exists.",
                super::text::capitalize(meta.verbose_name),
                names.join(" and ")
            );
            errors.push((if single { fields[0].name.to_string() } else { String::new() }, message));
        }
    }
    Ok(errors)
}

fn unknown_fields(meta: &ModelMeta, values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    values
        .keys()
        .filter(|name| meta.field(name).is_none())
        .map(|name| (name.clone(), format!("{} has no field `{name}`.", meta.name)))
        .collect()
}

fn find<M>(conn: &mut AnyConnection, pk: &str) -> Result<M, Error>
where
    M: ModelText,
    M::Query: LimitDsl<Output = M::Query> + LoadQuery<'static, AnyConnection, M>,
{
    let meta = M::meta();
    let missing = || Error::DoesNotExist { model: meta.name };
    let key = <M::PrimaryKey as super::FieldValue>::from_text(pk).map_err(|_| missing())?;
    let query = M::__filter_pks(M::objects().__into_unordered(), vec![key]);
    super::QuerySet::<M>::__new(query).first_sync(conn)?.ok_or_else(missing)
}
