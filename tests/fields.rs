//! Field types beyond scalars (decimal, date, datetime, uuid, JSON, choices) and `auto_now`, on
//! SQLite and PostgreSQL.

use diesel::prelude::*;
use manouche::db::{Error, FieldType, Json, Model};
use manouche::prelude::*;

/// How far an order has gone.
#[derive(Choices, Debug, Clone, Copy, PartialEq)]
pub enum Status {
    /// Being filled.
    Pending,
    /// On its way.
    #[choice(value = "sent", label = "Shipped to customer")]
    Shipped,
}

/// How fast a parcel goes, stored as a number.
#[derive(Choices, Debug, Clone, Copy, PartialEq)]
#[choices(integer)]
pub enum Speed {
    /// The cheap way.
    Standard = 1,
    /// Next day.
    #[choice(label = "Next day")]
    Express = 5,
}

/// A parcel: one field of each type.
#[model(app = "fieldtests")]
#[derive(Debug, Clone, PartialEq)]
pub struct Parcel {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(unique)]
    pub tracking: Uuid,
    #[field(max_digits = 10, decimal_places = 2)]
    pub price: Decimal,
    #[field(max_digits = 6, decimal_places = 3)]
    pub weight_kg: Option<Decimal>,
    pub ship_on: Date,
    pub delivered_at: Option<DateTime>,
    #[field(choices, max_length = 10)]
    pub status: Status,
    #[field(choices = integer)]
    pub speed: Option<Speed>,
    pub details: Json,
    #[field(auto_now_add)]
    pub created_at: DateTime,
    #[field(auto_now)]
    pub updated_at: DateTime,
}

/// PostgreSQL's `test` database is shared: tests creating `fieldtests_parcel` there take turns.
static TABLE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn databases() -> Vec<crate::common::TestDb> {
    let databases = crate::common::test_databases("field types are");
    for db in &databases {
        crate::common::recreate_tables(db, &[Parcel::meta()]);
    }
    databases
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn parcel(price: &str, status: Status) -> Parcel {
    Parcel {
        id: 0,
        tracking: Uuid::new_v4(),
        price: dec(price),
        weight_kg: None,
        ship_on: Date::from_ymd_opt(2026, 11, 24).unwrap(),
        delivered_at: None,
        status,
        speed: Some(Speed::Express),
        details: serde_json::json!({"gift": true, "note": "ring twice"}),
        created_at: DateTime::default(),
        updated_at: DateTime::default(),
    }
}

#[test]
fn field_types_describe_themselves() {
    let meta = Parcel::meta();
    let price = meta.field("price").unwrap();
    assert_eq!((price.ty, price.max_digits, price.decimal_places), (FieldType::Decimal, Some(10), Some(2)));
    assert_eq!(meta.field("tracking").unwrap().ty, FieldType::Uuid);
    assert_eq!(meta.field("ship_on").unwrap().ty, FieldType::Date);
    assert!(meta.field("delivered_at").unwrap().nullable);
    assert_eq!(meta.field("details").unwrap().ty, FieldType::Json);
    let status = meta.field("status").unwrap();
    assert_eq!(status.ty, FieldType::Text);
    assert_eq!(status.choices, &[("pending", "Pending"), ("sent", "Shipped to customer")]);
    assert!(meta.field("created_at").unwrap().auto_now_add);
    let speed = meta.field("speed").unwrap();
    assert_eq!((speed.ty, speed.choices), (FieldType::Integer, &[("1", "Standard"), ("5", "Next day")][..]));
    assert_eq!(serde_json::to_string(&Speed::Express).unwrap(), "5");
    assert!(meta.field("updated_at").unwrap().auto_now);
    assert_eq!(Status::Shipped.to_string(), "Shipped to customer");
    assert_eq!(serde_json::to_string(&Status::Shipped).unwrap(), "\"sent\"");
    assert!(serde_json::from_str::<Status>("\"lost\"").unwrap_err().to_string().contains("`lost` is not a choice"));
}

#[test]
fn every_field_type_round_trips_and_filters_on_every_backend() {
    let _turn = TABLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let before = manouche::db::now();
            let mut heavy = parcel("20", Status::Pending);
            heavy.weight_kg = Some(dec("1.5"));
            let heavy = heavy.save_sync(conn)?;
            assert!(heavy.created_at >= before && heavy.updated_at >= before, "auto_now_add and auto_now set");
            let light = parcel("4.99", Status::Shipped).save_sync(conn)?;

            let loaded = Parcel::objects().filter(Parcel::id.eq(heavy.id)).get_sync(conn)?;
            assert_eq!(loaded, heavy, "{backend:?}: every field reads back as written");
            // The decimal comes back at the field's scale on both backends.
            assert_eq!(loaded.price.to_string(), "20.00", "{backend:?}");
            assert_eq!(loaded.weight_kg.map(|w| w.to_string()), Some("1.500".into()), "{backend:?}");
            assert_eq!(loaded.details["note"], "ring twice");

            // Filters compare typed values in SQL.
            let cheap =
                Parcel::objects().filter(Parcel::price.lt(dec("10"))).values_list(Parcel::id).all_sync::<i64>(conn)?;
            assert_eq!(cheap, vec![light.id], "{backend:?}: decimals compare as numbers");
            let sent = Parcel::objects().filter(Parcel::status.eq(Status::Shipped)).count_sync(conn)?;
            assert_eq!(sent, 1);
            let fast = Parcel::objects().filter(Parcel::speed.eq(Speed::Express)).count_sync(conn)?;
            assert_eq!(fast, 2, "{backend:?}: integer choices compare as numbers");
            let stored: Option<i32> = diesel::select(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Integer>,
            >("(SELECT speed FROM fieldtests_parcel LIMIT 1)"))
            .get_result(conn)?;
            assert_eq!(stored, Some(5), "stored as the number");
            let by_tracking = Parcel::objects().filter(Parcel::tracking.eq(light.tracking)).get_sync(conn)?;
            assert_eq!(by_tracking.id, light.id);
            let recent = Parcel::objects().filter(Parcel::created_at.ge(before)).count_sync(conn)?;
            assert_eq!(recent, 2, "{backend:?}: datetimes compare in time order");
            let total: Option<Decimal> = Parcel::objects().aggregate(diesel::dsl::sum(Parcel::price)).one_sync(conn)?;
            assert_eq!(total, Some(dec("24.99")), "{backend:?}: sums are exact");

            // auto_now moves on every save; auto_now_add stays.
            std::thread::sleep(std::time::Duration::from_millis(5));
            let mut again = loaded.clone();
            again.delivered_at = Some(manouche::db::now());
            let again = again.save_sync(conn)?;
            assert_eq!(again.created_at, heavy.created_at);
            assert!(again.updated_at > heavy.updated_at);
            let reread = Parcel::objects().filter(Parcel::id.eq(heavy.id)).get_sync(conn)?;
            assert_eq!(reread, again);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

#[test]
fn a_stored_value_that_is_not_a_choice_is_a_clear_error() {
    let _turn = TABLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let db = databases().remove(0);
    let error = db
        .run_sync(|conn| {
            let saved = parcel("1", Status::Pending).save_sync(conn)?;
            diesel::update(fieldtests_parcel::table.find(saved.id))
                .set(fieldtests_parcel::status.eq("lost"))
                .execute(conn)?;
            Parcel::objects().all_sync(conn)
        })
        .unwrap_err();
    assert!(error.to_string().contains("`lost` is not a choice of Status"), "{error}");
}

/// An e-mail address: a field type of the project's own, stored as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Email(pub String);
manouche::newtype_field!(Email(String): diesel::sql_types::Text, Text, Email);

/// A subscriber, with a field of a type of the project's own.
#[model(app = "fieldtests")]
#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(max_length = 254, unique, sql_type = diesel::sql_types::Text)]
    pub email: Email,
    #[field(sql_type = diesel::sql_types::Text)]
    pub backup: Option<Email>,
}

#[test]
fn a_field_type_of_the_projects_own_is_stored_and_read_back() {
    let meta = Subscriber::meta();
    let email = meta.field("email").unwrap();
    assert_eq!((email.ty, email.widget, email.max_length), (FieldType::Text, manouche::db::Widget::Email, Some(254)));
    assert!(meta.field("backup").unwrap().nullable);
    let _turn = TABLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in crate::common::test_databases("a custom field type is") {
        crate::common::recreate_tables(&db, &[Subscriber::meta()]);
        let backend = db.backend();
        db.run_sync(move |conn| {
            let ada = Subscriber { id: 0, email: Email("ada@example.com".into()), backup: None }.save_sync(conn)?;
            let rows = vec![
                Subscriber {
                    id: 0,
                    email: Email("bea@example.com".into()),
                    backup: Some(Email("b@example.org".into())),
                },
                Subscriber { id: 0, email: Email("cy@example.com".into()), backup: None },
            ];
            Subscriber::objects().bulk_create_sync(conn, rows)?;
            let found =
                Subscriber::objects().filter(Subscriber::email.eq(Email("bea@example.com".into()))).get_sync(conn)?;
            assert_eq!(found.backup, Some(Email("b@example.org".into())), "{backend:?}");
            assert_eq!(Subscriber::objects().filter(Subscriber::backup.is_null()).count_sync(conn)?, 2);
            assert_eq!(Subscriber::objects().filter(Subscriber::id.eq(ada.id)).get_sync(conn)?, ada);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

#[test]
fn json_is_jsonb_on_postgresql_and_its_keys_filter_as_text() {
    use manouche::db::JsonLookups as _;
    let _turn = TABLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let mut upstairs = parcel("20", Status::Pending);
            upstairs.details = serde_json::json!({"note": "ring twice", "floor": 3, "tags": ["fragile"]});
            let upstairs = upstairs.save_sync(conn)?;
            let mut door = parcel("5", Status::Pending);
            door.details = serde_json::json!({"note": "leave at the door"});
            let door = door.save_sync(conn)?;

            // Parcel.objects.filter(details__note="ring twice"), details__floor=3, a missing key.
            let ids = |query: manouche::db::QuerySet<Parcel>, conn: &mut manouche::db::Connection| {
                query.order_by(Parcel::id.asc()).values_list(Parcel::id).all_sync::<i64>(conn)
            };
            assert_eq!(ids(Parcel::objects().filter(Parcel::details.key("note").eq("ring twice")), conn)?, [upstairs.id]);
            assert_eq!(ids(Parcel::objects().filter(Parcel::details.key("floor").eq("3")), conn)?, [upstairs.id], "{backend:?}");
            assert_eq!(ids(Parcel::objects().filter(Parcel::details.key("floor").is_null()), conn)?, [door.id]);
            let notes: Vec<Option<String>> =
                Parcel::objects().order_by(Parcel::id.asc()).values_list(Parcel::details.key("note")).all_sync(conn)?;
            assert_eq!(notes, [Some("ring twice".to_owned()), Some("leave at the door".to_owned())]);
            let tags: Option<String> =
                Parcel::objects().filter(Parcel::id.eq(upstairs.id)).values_list(Parcel::details.key("tags")).one_sync(conn)?;
            let tags: serde_json::Value = serde_json::from_str(&tags.unwrap()).unwrap();
            assert_eq!(tags, serde_json::json!(["fragile"]), "{backend:?}: an array reads as JSON text");

            if backend == manouche::db::Backend::Postgres {
                let kind: String = manouche::db::RawRows::<diesel::sql_types::Text>::new(
                    "SELECT data_type::text FROM information_schema.columns WHERE table_name = 'fieldtests_parcel' AND column_name = 'details'",
                )
                .one_sync(conn)?;
                assert_eq!(kind, "jsonb");
                // A column made as JSON before still reads and writes.
                diesel::connection::SimpleConnection::batch_execute(conn, "ALTER TABLE fieldtests_parcel ALTER COLUMN details TYPE json")?;
                assert_eq!(Parcel::objects().filter(Parcel::id.eq(door.id)).get_sync(conn)?.details["note"], "leave at the door");
                parcel("1", Status::Pending).save_sync(conn)?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

/// A meeting across time zones: aware instants, Django's `USE_TZ = True`.
#[model(app = "fieldtests")]
#[derive(Debug, Clone, PartialEq)]
pub struct Meeting {
    #[field(primary_key, auto)]
    pub id: i64,
    pub title: String,
    pub starts_at: DateTimeTz,
    pub ends_at: Option<DateTimeTz>,
    #[field(auto_now_add)]
    pub booked_at: DateTimeTz,
}

#[test]
fn aware_datetimes_are_stored_as_utc_instants_and_compare_across_zones() {
    use manouche::chrono::{FixedOffset, TimeZone};
    let at = |offset_hours: i32, (y, mo, d, h, mi): (i32, u32, u32, u32, u32)| -> DateTimeTz {
        FixedOffset::east_opt(offset_hours * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().into()
    };
    assert_eq!(Meeting::meta().field("starts_at").unwrap().ty, FieldType::DateTimeTz);
    let sql = manouche::migrations::create_table(Meeting::meta(), manouche::db::Backend::Postgres).unwrap().join(";");
    assert!(sql.contains(r#""starts_at" TIMESTAMPTZ NOT NULL"#), "{sql}");
    let _turn = TABLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in crate::common::test_databases("aware datetimes are") {
        crate::common::recreate_tables(&db, &[Meeting::meta()]);
        let backend = db.backend();
        db.run_sync(move |conn| {
            let before = manouche::db::now_tz();
            // 10:00 in Paris is 09:00 UTC; 23:30 in New York is 04:30 UTC the next day, later
            // than 01:00 the next day in Athens (23:00 UTC): written text would sort them wrong.
            let paris = Meeting {
                id: 0,
                title: "paris".into(),
                starts_at: at(1, (2026, 12, 3, 10, 0)),
                ends_at: None,
                booked_at: DateTimeTz::UNIX_EPOCH,
            }
            .save_sync(conn)?;
            let new_york = Meeting {
                id: 0,
                title: "new york".into(),
                starts_at: at(-5, (2026, 12, 3, 23, 30)),
                ends_at: Some(at(0, (2026, 12, 4, 6, 0))),
                booked_at: DateTimeTz::UNIX_EPOCH,
            }
            .save_sync(conn)?;
            let athens = Meeting {
                id: 0,
                title: "athens".into(),
                starts_at: at(2, (2026, 12, 4, 1, 0)),
                ends_at: None,
                booked_at: DateTimeTz::UNIX_EPOCH,
            }
            .save_sync(conn)?;
            assert!(paris.booked_at >= before, "auto_now_add on an aware field");

            let loaded = Meeting::objects().filter(Meeting::id.eq(paris.id)).get_sync(conn)?;
            assert_eq!(loaded, paris, "{backend:?}: the same instant reads back");
            assert_eq!(loaded.starts_at.to_string(), "2026-12-03T09:00:00Z");
            let order: Vec<String> =
                Meeting::objects().order_by(Meeting::starts_at.asc()).values_list(Meeting::title).all_sync(conn)?;
            assert_eq!(order, ["paris", "athens", "new york"], "{backend:?}: ordered by instant");
            // Compared with a value from another zone: 17:30 in Tokyo is 08:30 UTC.
            let after_tokyo =
                Meeting::objects().filter(Meeting::starts_at.gt(at(9, (2026, 12, 3, 17, 30)))).count_sync(conn)?;
            assert_eq!(after_tokyo, 3);
            let late = Meeting::objects()
                .filter(Meeting::starts_at.ge(at(0, (2026, 12, 4, 0, 0))))
                .values_list(Meeting::title)
                .all_sync::<String>(conn)?;
            assert_eq!(late, ["new york"], "{backend:?}");
            assert_eq!(new_york.ends_at, Some(at(0, (2026, 12, 4, 6, 0))));

            // The registry's text form: ISO 8601 in UTC out, any offset in.
            let meetings = manouche::db::model("fieldtests.Meeting").unwrap();
            assert_eq!(meetings.get(conn, &athens.id.to_string())?.value("starts_at"), Some("2026-12-03T23:00:00Z"));
            let values = [("title", "tokyo"), ("starts_at", "2026-12-03T17:30:00+09:00")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let tokyo = meetings.create(conn, &values)?;
            assert_eq!(tokyo.value("starts_at"), Some("2026-12-03T08:30:00Z"));

            if backend == manouche::db::Backend::Postgres {
                // The session's zone changes how PostgreSQL would print it, not the instant read.
                diesel::connection::SimpleConnection::batch_execute(conn, "SET TIME ZONE 'Asia/Tokyo'")?;
                assert_eq!(
                    Meeting::objects().filter(Meeting::id.eq(paris.id)).get_sync(conn)?.starts_at,
                    paris.starts_at
                );
                diesel::connection::SimpleConnection::batch_execute(conn, "SET TIME ZONE 'UTC'")?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}
