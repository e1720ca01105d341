//! Foreign keys: columns, `on_delete` enforced by the database, joins in plain Diesel, and
//! reaching the target; on SQLite and PostgreSQL.

use diesel::prelude::*;
use manouche::db::{Error, FieldType, ForeignKey, Model, OnDelete, OneToOne};
use manouche::migrations as schema;
use manouche::prelude::*;

/// A writer.
#[model(app = "reltests")]
#[many_to_many(specialities = Genre, through = Expertise)]
#[derive(Debug, Clone, PartialEq)]
pub struct Author {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

/// A shelf, which cannot be removed while it holds books.
#[model(app = "reltests")]
#[derive(Debug, Clone, PartialEq)]
pub struct Shelf {
    #[field(primary_key)]
    pub code: String,
    pub room: String,
}

/// A subject a book can be filed under.
#[model(app = "reltests", ordering = ["name"])]
#[derive(Debug, Clone, PartialEq)]
pub struct Genre {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

/// A book: deleted with its author, keeps its shelf, loses its optional editor.
#[model(app = "reltests")]
#[many_to_many(genres = Genre)]
#[derive(Debug, Clone, PartialEq)]
pub struct Book {
    #[field(primary_key, auto)]
    pub id: i64,
    pub title: String,
    #[field(on_delete = cascade)]
    pub author: ForeignKey<Author>,
    #[field(on_delete = protect, key_type = String)]
    pub shelf: ForeignKey<Shelf>,
    #[field(on_delete = set_null, related_name = "edited_books")]
    pub editor: Option<ForeignKey<Author>>,
}

/// A declared through model: how long an author has written in a genre.
#[model(app = "reltests", unique_together = [["author", "genre"]])]
#[derive(Debug, Clone)]
pub struct Expertise {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(on_delete = cascade)]
    pub author: ForeignKey<Author>,
    #[field(on_delete = cascade)]
    pub genre: ForeignKey<Genre>,
    pub years: i32,
}

/// One biography per author at most.
#[model(app = "reltests")]
#[derive(Debug, Clone)]
pub struct Biography {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(on_delete = cascade)]
    pub author: OneToOne<Author>,
    pub text: String,
}

/// A room; room 1 is where furniture goes when its room is removed.
#[model(app = "reltests")]
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    #[field(primary_key, auto)]
    pub id: i64,
    pub name: String,
}

/// Moved to room 1 when its room is deleted (Django's `SET_DEFAULT`).
#[model(app = "reltests")]
#[derive(Debug, Clone, PartialEq)]
pub struct Desk {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(on_delete = set_default, default = 1)]
    pub room: ForeignKey<Room>,
}

/// Left to the database when its room is deleted (Django's `DO_NOTHING`).
#[model(app = "reltests")]
#[derive(Debug, Clone, PartialEq)]
pub struct Lamp {
    #[field(primary_key, auto)]
    pub id: i64,
    #[field(on_delete = do_nothing)]
    pub room: ForeignKey<Room>,
}

static TABLES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn databases() -> Vec<crate::common::TestDb> {
    let databases = crate::common::test_databases("relations are");
    let tables = [
        Author::meta(),
        Shelf::meta(),
        Book::meta(),
        Biography::meta(),
        Genre::meta(),
        BookGenres::meta(),
        Expertise::meta(),
        Room::meta(),
        Desk::meta(),
        Lamp::meta(),
    ];
    for db in &databases {
        crate::common::recreate_tables(db, &tables);
    }
    databases
}

#[test]
fn foreign_keys_describe_themselves_and_render_constraints() {
    let author = Book::meta().field("author").unwrap();
    assert_eq!((&*author.column, author.ty, author.db_index), ("author_id", FieldType::ForeignKey, true));
    let relation = author.relation.clone().unwrap();
    assert_eq!((relation.to.model().unwrap().name, relation.on_delete), ("Author", OnDelete::Cascade));
    assert_eq!(Book::meta().field("editor").unwrap().relation.as_ref().unwrap().on_delete, OnDelete::SetNull);
    let sql = schema::create_table(Book::meta(), manouche::db::Backend::Postgres).unwrap().join(";\n");
    assert!(
        sql.contains(r#""author_id" BIGINT NOT NULL REFERENCES "reltests_author" ("id") ON DELETE CASCADE"#),
        "{sql}"
    );
    assert!(
        sql.contains(r#""shelf_id" TEXT NOT NULL REFERENCES "reltests_shelf" ("code") ON DELETE RESTRICT"#),
        "{sql}"
    );
    assert!(sql.contains(r#""editor_id" BIGINT NULL REFERENCES "reltests_author" ("id") ON DELETE SET NULL"#), "{sql}");
    assert!(sql.contains(r#"CREATE INDEX "reltests_book_author_id_idx" ON "reltests_book" ("author_id")"#), "{sql}");
}

#[test]
fn on_delete_is_enforced_and_joins_are_plain_diesel() {
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let ursula = Author { id: 0, name: "Ursula".into() }.save_sync(conn)?;
            let terry = Author { id: 0, name: "Terry".into() }.save_sync(conn)?;
            let shelf = Shelf { code: "A1".into(), room: "attic".into() }.save_sync(conn)?;
            let book = |title: &str, author: &Author, editor: Option<&Author>| Book {
                id: 0,
                title: title.into(),
                author: ForeignKey::to(author.clone()),
                shelf: ForeignKey::new(shelf.code.clone()),
                editor: editor.map(|e| ForeignKey::new(e.id)),
            };
            let earthsea = book("Earthsea", &ursula, Some(&terry)).save_sync(conn)?;
            book("The Dispossessed", &ursula, None).save_sync(conn)?;
            let mort = book("Mort", &terry, Some(&ursula)).save_sync(conn)?;

            // The key reads back; the target is one query away, or none when already held.
            let loaded = Book::objects().filter(Book::id.eq(earthsea.id)).get_sync(conn)?;
            assert_eq!(loaded.author.id(), &ursula.id);
            assert!(loaded.author.get().is_none());
            assert_eq!(loaded.author.fetch_sync(conn)?.name, "Ursula");
            assert_eq!(earthsea.author.get().map(|a| a.name.as_str()), Some("Ursula"));
            assert_eq!(Book::objects().filter(Book::author.eq(terry.id)).count_sync(conn)?, 1);

            // Joins through the generated `JoinTo`, in plain Diesel.
            let pairs: Vec<(String, String)> = reltests_book::table
                .inner_join(reltests_author::table)
                .select((reltests_book::title, reltests_author::name))
                .order_by(reltests_book::title.asc())
                .load(conn)?;
            assert_eq!(pairs[0], ("Earthsea".to_owned(), "Ursula".to_owned()), "{backend:?}");

            // One-to-one: a second biography of the same author is refused.
            let bio = |text: &str| Biography { id: 0, author: ForeignKey::new(terry.id), text: text.into() };
            bio("Born in Beaconsfield").save_sync(conn)?;
            assert!(bio("Again").save_sync(conn).is_err(), "{backend:?}: one biography per author");

            // A lookup through a nullable key: books edited by Ursula (a NULL editor never matches).
            {
                use manouche::db::Lookups as _;
                let edited =
                    Book::objects().filter(Book::editor.matches(Author::name.eq("Ursula"))).count_sync(conn)?;
                let expected = Book::objects().filter(Book::editor.eq(ursula.id)).count_sync(conn)?;
                assert_eq!(edited, expected, "{backend:?}");
                let editors =
                    Author::objects().filter(Book::editor.referenced_by(Book::title.eq("Mort"))).count_sync(conn)?;
                assert_eq!(editors, 1, "{backend:?}: Mort's editor");
            }

            // PROTECT: the shelf holding books cannot go (refused before any SQL, naming the
            // books, as Django's ProtectedError); nothing changes.
            let refused = shelf.clone().delete_sync(conn).unwrap_err();
            assert!(
                matches!(&refused, Error::Protected { rows, .. } if rows.iter().all(|(m, _)| m == "reltests.Book")),
                "{refused}"
            );
            assert_eq!(Shelf::objects().count_sync(conn)?, 1);

            // SET NULL: Mort loses its editor when Ursula goes; CASCADE: her books go with her.
            ursula.delete_sync(conn)?;
            let titles = Book::objects().values_list(Book::title).all_sync::<String>(conn)?;
            assert_eq!(titles, vec!["Mort".to_owned()], "{backend:?}: her books were deleted with her");
            let mort = Book::objects().filter(Book::id.eq(mort.id)).get_sync(conn)?;
            assert_eq!(mort.editor, None, "{backend:?}: the editor reference was cleared");
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

/// Counts the statements a connection runs while `f` runs.
pub(crate) fn statements<T>(
    conn: &mut manouche::db::Connection,
    f: impl FnOnce(&mut manouche::db::Connection) -> T,
) -> (T, usize) {
    use diesel::connection::{Instrumentation, InstrumentationEvent};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let result = f(conn);
    conn.set_instrumentation(None::<Box<dyn Instrumentation>>);
    (result, count.load(Ordering::SeqCst))
}

#[test]
fn prefetch_related_runs_a_fixed_number_of_queries_whatever_the_rows() {
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let shelf = Shelf { code: "B2".into(), room: "study".into() }.save_sync(conn)?;
            let mut counts = Vec::new();
            for books_per_author in [1, 3, 12] {
                Author::objects().delete_sync(conn)?;
                for a in 0..4 {
                    let author = Author { id: 0, name: format!("Author {a}") }.save_sync(conn)?;
                    let books = (0..books_per_author)
                        .map(|b| Book {
                            id: 0,
                            title: format!("Book {a}.{b}"),
                            author: ForeignKey::new(author.id),
                            shelf: ForeignKey::new(shelf.code.clone()),
                            editor: None,
                        })
                        .collect();
                    Book::objects().bulk_create_sync(conn, books)?;
                }
                // Reverse: each author with their books.
                let (authors, reverse) = statements(conn, |conn| {
                    Author::objects()
                        .order_by(Author::name.asc())
                        .prefetch_related_set(Book::author)
                        .related(Book::objects().order_by(Book::title.asc()))
                        .all_sync(conn)
                });
                let authors = authors?;
                assert_eq!(authors.len(), 4);
                assert!(authors.iter().all(|(_, books)| books.len() == books_per_author));
                assert_eq!(authors[1].1[0].title, "Book 1.0");
                // One author with their books, as get() and first() on the prefetching set.
                let (one, single) = statements(conn, |conn| {
                    Author::objects()
                        .filter(Author::name.eq("Author 2"))
                        .prefetch_related_set(Book::author)
                        .related(Book::objects().order_by(Book::title.desc()))
                        .get_sync(conn)
                });
                let (author, books) = one?;
                assert_eq!(author.name, "Author 2");
                assert_eq!(books.len(), books_per_author);
                let mut titles: Vec<String> = (0..books_per_author).map(|b| format!("Book 2.{b}")).collect();
                titles.sort_unstable_by(|a, b| b.cmp(a));
                let got: Vec<String> = books.iter().map(|b| b.title.clone()).collect();
                assert_eq!(got, titles, "in the related set's order");
                assert_eq!(single, 2);
                let first = Author::objects()
                    .order_by(Author::name.desc())
                    .prefetch_related_set(Book::author)
                    .first_sync(conn)?
                    .expect("an author");
                assert_eq!((first.0.name.as_str(), first.1.len()), ("Author 3", books_per_author));
                let none = Author::objects().filter(Author::name.eq("Nobody")).prefetch_related_set(Book::author);
                assert!(none.first_sync(conn)?.is_none());
                // Forward: each book with its author, without a query per book.
                let (books, forward) =
                    statements(conn, |conn| Book::objects().prefetch_related(Book::author).all_sync(conn));
                let books = books?;
                assert!(books.iter().all(|b| b.author.get().is_some_and(|a| a.id == *b.author.id())));
                // Nothing to load for an empty nullable key.
                let (with_editors, optional) =
                    statements(conn, |conn| Book::objects().prefetch_related(Book::editor).all_sync(conn));
                assert!(with_editors?.iter().all(|b| b.editor.is_none()));
                counts.push((reverse, forward, optional));
            }
            assert_eq!(counts, vec![(2, 2, 1); 3], "{backend:?}: the same statements for 4, 12 and 48 books");
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

#[test]
fn select_related_loads_rows_and_targets_in_one_joined_query() {
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let shelf = Shelf { code: "D4".into(), room: "cellar".into() }.save_sync(conn)?;
            let ada = Author { id: 0, name: "Ada".into() }.save_sync(conn)?;
            let bea = Author { id: 0, name: "Bea".into() }.save_sync(conn)?;
            for (title, author, editor) in [("Zeta", &ada, Some(&bea)), ("Alpha", &bea, None), ("Mu", &ada, None)] {
                Book {
                    id: 0,
                    title: title.into(),
                    author: ForeignKey::new(author.id),
                    shelf: ForeignKey::new(shelf.code.clone()),
                    editor: editor.map(|e| ForeignKey::new(e.id)),
                }
                .save_sync(conn)?;
            }
            // A required key: an inner join, in the query set's order, with its filters.
            let (books, joined) = statements(conn, |conn| {
                Book::objects()
                    .select_related(Book::author)
                    .filter(Book::title.ne("Mu"))
                    .order_by(Book::title.asc())
                    .all_sync(conn)
            });
            let books = books?;
            assert_eq!(joined, 1, "{backend:?}: one query for the books and their authors");
            let pairs: Vec<(&str, &str)> =
                books.iter().map(|b| (b.title.as_str(), b.author.get().map_or("?", |a| a.name.as_str()))).collect();
            assert_eq!(pairs, [("Alpha", "Bea"), ("Zeta", "Ada")]);
            // A nullable key: a left join keeps the books without an editor.
            let (books, joined) = statements(conn, |conn| {
                Book::objects().select_related(Book::editor).order_by(Book::title.desc()).all_sync(conn)
            });
            let books = books?;
            assert_eq!(joined, 1);
            let editors: Vec<Option<&str>> =
                books.iter().map(|b| b.editor.as_ref().and_then(|e| e.get()).map(|a| a.name.as_str())).collect();
            assert_eq!(editors, [Some("Bea"), None, None]);
            // get() and first() join too; a second relation costs one more query.
            let (zeta, joined) = statements(conn, |conn| {
                Book::objects().select_related(Book::author).filter(Book::title.eq("Zeta")).get_sync(conn)
            });
            assert_eq!((zeta?.author.get().map(|a| a.name.clone()), joined), (Some("Ada".to_owned()), 1));
            let (first, queries) = statements(conn, |conn| {
                Book::objects().select_related(Book::author).select_related(Book::shelf).first_sync(conn)
            });
            let first = first?.expect("a book");
            assert_eq!(queries, 2);
            assert_eq!(first.shelf.get().map(|s| s.room.as_str()), Some("cellar"));
            assert!(first.author.get().is_some());
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

#[test]
fn bulk_create_inserts_many_rows_per_statement_and_sets_their_keys() {
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let shelf = Shelf { code: "E5".into(), room: "loft".into() }.save_sync(conn)?;
            let author = Author { id: 0, name: "Prolific".into() }.save_sync(conn)?;
            // 13,000 rows of 5 columns: three statements under the bound-parameter limits.
            let books: Vec<Book> = (0..13_000)
                .map(|i| Book {
                    id: 0,
                    title: format!("Book {i:05}"),
                    author: ForeignKey::new(author.id),
                    shelf: ForeignKey::new(shelf.code.clone()),
                    editor: (i % 2 == 0).then(|| ForeignKey::new(author.id)),
                })
                .collect();
            let (saved, count) = statements(conn, |conn| Book::objects().bulk_create_sync(conn, books));
            let saved = saved?;
            assert!(count <= 5, "{backend:?}: {count} statements for 13,000 rows");
            assert!(saved.windows(2).all(|w| w[0].id < w[1].id), "keys are set, in order");
            let sample = Book::objects().filter(Book::id.eq(saved[12_345].id)).get_sync(conn)?;
            assert_eq!(sample.title, "Book 12345");
            assert_eq!(Book::objects().filter(Book::editor.is_null()).count_sync(conn)?, 6_500);
            assert!(Book::objects().bulk_create_sync(conn, Vec::new())?.is_empty());
            // One bad row (an unknown shelf) keeps none of them.
            let before = Book::objects().count_sync(conn)?;
            let bad = vec![
                Book {
                    id: 0,
                    title: "ok".into(),
                    author: ForeignKey::new(author.id),
                    shelf: ForeignKey::new("E5".into()),
                    editor: None,
                },
                Book {
                    id: 0,
                    title: "bad".into(),
                    author: ForeignKey::new(author.id),
                    shelf: ForeignKey::new("Z9".into()),
                    editor: None,
                },
            ];
            assert!(Book::objects().bulk_create_sync(conn, bad).is_err());
            assert_eq!(Book::objects().count_sync(conn)?, before);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

#[test]
fn annotate_subqueries_and_values_maps() {
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let shelf = Shelf { code: "C3".into(), room: "hall".into() }.save_sync(conn)?;
            let mut authors = Vec::new();
            for (name, books) in [("Ada", 2), ("Bea", 0), ("Cy", 1)] {
                let author = Author { id: 0, name: name.into() }.save_sync(conn)?;
                for b in 0..books {
                    Book {
                        id: 0,
                        title: format!("{name} {b}"),
                        author: ForeignKey::new(author.id),
                        shelf: ForeignKey::new(shelf.code.clone()),
                        editor: None,
                    }
                    .save_sync(conn)?;
                }
                authors.push(author);
            }
            // Annotate with a correlated scalar subquery (Subquery + OuterRef): books per author.
            let counted: Vec<(Author, Option<i64>)> = Author::objects()
                .order_by(Author::name.asc())
                .annotate(reltests_book::table.filter(Book::author.eq(Author::id)).count().single_value())
                .all_sync(conn)?;
            let counts: Vec<(String, Option<i64>)> = counted.into_iter().map(|(a, n)| (a.name, n)).collect();
            assert_eq!(
                counts,
                [("Ada".to_owned(), Some(2)), ("Bea".to_owned(), Some(0)), ("Cy".to_owned(), Some(1))],
                "{backend:?}"
            );
            // Filter with EXISTS over the related rows, and with IN over a subquery.
            let with_books = Author::objects()
                .filter(diesel::dsl::exists(reltests_book::table.filter(Book::author.eq(Author::id))))
                .order_by(Author::name.asc())
                .values_list(Author::name)
                .all_sync::<String>(conn)?;
            assert_eq!(with_books, ["Ada", "Cy"]);
            let titled = Author::objects()
                .filter(Author::id.eq_any(reltests_book::table.filter(Book::title.like("Cy%")).select(Book::author)))
                .values_list(Author::name)
                .all_sync::<String>(conn)?;
            assert_eq!(titled, ["Cy"]);
            // values(): maps of column name to JSON value.
            let rows = Book::objects()
                .order_by(Book::title.asc())
                .values((Book::title, Book::author, Book::editor))
                .all_sync(conn)?;
            assert_eq!(
                serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect()),
                serde_json::json!([
                    {"title": "Ada 0", "author_id": authors[0].id, "editor_id": null},
                    {"title": "Ada 1", "author_id": authors[0].id, "editor_id": null},
                    {"title": "Cy 0", "author_id": authors[2].id, "editor_id": null},
                ])
            );
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

#[test]
fn many_to_many_links_lists_and_prefetches() {
    let meta = BookGenres::meta();
    assert_eq!((meta.table, meta.unique_together), ("reltests_book_genres", &[&["book_id", "genre_id"][..]][..]));
    assert!(manouche::db::registered_models().iter().any(|m| m.table == "reltests_book_genres"), "migrations see it");
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let author = Author { id: 0, name: "Italo".into() }.save_sync(conn)?;
            let shelf = Shelf { code: "D4".into(), room: "den".into() }.save_sync(conn)?;
            let mut genre = |name: &str| Genre { id: 0, name: name.into() }.save_sync(conn);
            let (fable, travel, puzzle) = (genre("fable")?, genre("travel")?, genre("puzzle")?);
            let mut books = Vec::new();
            for title in ["Invisible Cities", "Cosmicomics", "If on a winter's night"] {
                let book = Book {
                    id: 0,
                    title: title.into(),
                    author: ForeignKey::new(author.id),
                    shelf: ForeignKey::new(shelf.code.clone()),
                    editor: None,
                };
                books.push(book.save_sync(conn)?);
            }
            let cities = &books[0];
            assert!(cities.genres().add_sync(conn, &travel)?);
            assert!(cities.genres().add_sync(conn, &fable)?);
            assert!(!cities.genres().add_sync(conn, &fable)?, "adding twice keeps one link");
            books[1].genres().add_sync(conn, &fable)?;
            books[2].genres().add_sync(conn, &puzzle)?;
            let names = |genres: Vec<Genre>| genres.into_iter().map(|g| g.name).collect::<Vec<_>>();
            assert_eq!(names(cities.genres().all_sync(conn)?), ["fable", "travel"], "{backend:?}");
            assert_eq!(cities.genres().objects().filter(Genre::name.like("t%")).count_sync(conn)?, 1);

            let (with_genres, statements) = statements(conn, |conn| {
                Book::objects().order_by(Book::title.asc()).prefetch_many::<BookGenres>().all_sync(conn)
            });
            let with_genres = with_genres?;
            assert_eq!(statements, 2, "{backend:?}: one query for the books, one for all their genres");
            let listed: Vec<(String, usize)> = with_genres.iter().map(|(b, g)| (b.title.clone(), g.len())).collect();
            assert_eq!(
                listed,
                [("Cosmicomics".into(), 1), ("If on a winter's night".into(), 1), ("Invisible Cities".into(), 2)]
            );

            assert!(cities.genres().remove_sync(conn, &travel)?);
            assert_eq!(names(cities.genres().all_sync(conn)?), ["fable"]);
            // Deleting a genre removes its links (the through table cascades).
            fable.delete_sync(conn)?;
            assert!(cities.genres().all_sync(conn)?.is_empty());
            assert_eq!(books[2].genres().clear_sync(conn)?, 1);

            // A declared through model: its rows are saved with their own fields.
            Expertise { id: 0, author: ForeignKey::new(author.id), genre: ForeignKey::new(travel.id), years: 12 }
                .save_sync(conn)?;
            assert_eq!(names(author.specialities().all_sync(conn)?), ["travel"]);
            let refused = author.specialities().add_sync(conn, &puzzle).unwrap_err();
            assert!(refused.to_string().contains("save a `Expertise`"), "{refused}");
            let experts = Author::objects().prefetch_many::<Expertise>().all_sync(conn)?;
            assert_eq!(experts[0].1.len(), 1);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

/// `expertise_set()` on an author: the declared through model's key has Django's default accessor.
fn expertise_count(conn: &mut manouche::db::Connection, author: &Author) -> Result<i64, Error> {
    author.expertise_set().count_sync(conn)
}

#[test]
fn query_sets_nest_as_subqueries_in_one_statement() {
    use manouche::db::{SubqueryLookups as _, count_related, exists, subquery};
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let ursula = Author { id: 0, name: "Ursula".into() }.save_sync(conn)?;
            let terry = Author { id: 0, name: "Terry".into() }.save_sync(conn)?;
            let shelf = Shelf { code: "S1".into(), room: "study".into() }.save_sync(conn)?;
            let mut book = |title: &str, author: &Author, editor: Option<&Author>| {
                Book {
                    id: 0,
                    title: title.into(),
                    author: ForeignKey::new(author.id),
                    shelf: ForeignKey::new(shelf.code.clone()),
                    editor: editor.map(|e| ForeignKey::new(e.id)),
                }
                .save_sync(conn)
            };
            let earthsea = book("Earthsea", &ursula, None)?;
            let mort = book("Mort", &terry, Some(&ursula))?;
            let dispossessed = book("Dispossessed", &ursula, None)?;
            let fantasy = Genre { id: 0, name: "fantasy".into() }.save_sync(conn)?;
            let sf = Genre { id: 0, name: "sf".into() }.save_sync(conn)?;
            earthsea.genres().add_sync(conn, &fantasy)?;
            mort.genres().add_sync(conn, &fantasy)?;
            dispossessed.genres().add_sync(conn, &sf)?;
            let titles = |books: Vec<Book>| books.into_iter().map(|b| b.title).collect::<Vec<_>>();
            let by_title = || Book::objects().order_by(Book::title.asc());

            // Reverse accessors: Django's default `book_set`, and a `related_name`.
            let written = ursula.book_set().order_by(Book::title.asc()).all_sync(conn)?;
            assert_eq!(titles(written), ["Dispossessed", "Earthsea"]);
            assert_eq!(titles(ursula.edited_books().all_sync(conn)?), ["Mort"]);
            assert_eq!(expertise_count(conn, &terry)?, 0, "through models declared by the user have theirs too");

            // Book.objects.filter(author__in=Author.objects.filter(name="Ursula")): one statement.
            let (found, n) = statements(conn, |conn| {
                by_title()
                    .filter(Book::author.is_in(Author::objects().filter(Author::name.eq("Ursula"))))
                    .all_sync(conn)
            });
            assert_eq!((titles(found?), n), (vec!["Dispossessed".to_owned(), "Earthsea".to_owned()], 1), "{backend:?}");

            // Three levels: authors of a book filed under "sf", through the link table.
            let (found, n) = statements(conn, |conn| {
                let sf_links = BookGenres::objects()
                    .filter(BookGenres::genre.is_in(Genre::objects().filter(Genre::name.eq("sf"))));
                let sf_books = Book::objects().filter(Book::id.is_in(sf_links.values_list(BookGenres::book)));
                Author::objects().filter(Author::id.is_in(sf_books.values_list(Book::author))).all_sync(conn)
            });
            assert_eq!((found?, n), (vec![ursula.clone()], 1), "{backend:?}");

            // A nullable column's values: authors who edited a book; and the negation.
            let (found, n) = statements(conn, |conn| {
                Author::objects().filter(Author::id.is_in(Book::objects().values_list(Book::editor))).all_sync(conn)
            });
            assert_eq!((found?, n), (vec![ursula.clone()], 1), "{backend:?}");
            let others = by_title().exclude(Book::author.is_in(Author::objects().filter(Author::name.eq("Ursula"))));
            assert_eq!(titles(others.all_sync(conn)?), ["Mort"]);

            // Order and limit are kept inside: the first author by name is Terry.
            let first = Author::objects().order_by(Author::name.asc()).limit(1);
            assert_eq!(titles(by_title().filter(Book::author.is_in(first)).all_sync(conn)?), ["Mort"], "{backend:?}");

            // Exists(qs) and Subquery(qs), in filters and in annotate.
            let (found, n) = statements(conn, |conn| {
                Author::objects().filter(exists(Book::objects().filter(Book::title.eq("Mort")))).count_sync(conn)
            });
            assert_eq!((found?, n), (2, 1));
            let none =
                Author::objects().filter(exists(Book::objects().filter(Book::title.eq("Nope")))).count_sync(conn)?;
            assert_eq!(none, 0);
            let newest = Book::objects().aggregate(diesel::dsl::max(Book::id));
            let (found, n) = statements(conn, |conn| {
                Book::objects().filter(Book::id.nullable().eq(subquery(newest))).all_sync(conn)
            });
            assert_eq!((titles(found?), n), (vec!["Dispossessed".to_owned()], 1), "{backend:?}");
            let (counted, n) = statements(conn, |conn| {
                Author::objects()
                    .order_by(Author::name.asc())
                    .annotate(subquery(
                        Book::objects().filter(Book::shelf.eq("S1")).aggregate(diesel::dsl::count_star()),
                    ))
                    .all_sync(conn)
            });
            let counted: Vec<(String, Option<i64>)> = counted?.into_iter().map(|(a, c)| (a.name, c)).collect();
            assert_eq!(counted, [("Terry".to_owned(), Some(3)), ("Ursula".to_owned(), Some(3))]);
            assert_eq!(n, 1);

            // Count("books") per author, by the foreign key: a row nothing points to counts 0.
            let (counted, n) = statements(conn, |conn| {
                Author::objects()
                    .order_by(Author::name.asc())
                    .values_list((Author::name, count_related(Book::author), count_related(Book::editor)))
                    .all_sync(conn)
            });
            let counted: Vec<(String, i64, i64)> = counted?;
            assert_eq!(counted, [("Terry".to_owned(), 1, 0), ("Ursula".to_owned(), 2, 1)], "{backend:?}");
            assert_eq!(n, 1);
            let prolific = Author::objects().filter(count_related(Book::author).gt(1)).all_sync(conn)?;
            assert_eq!(prolific, std::slice::from_ref(&ursula));
            // Count("books", filter=Q(books__title__startswith="E")).
            let early = count_related(Book::author).filter(Book::title.like("E%"));
            let counted: Vec<(String, i64)> =
                Author::objects().order_by(Author::name.asc()).values_list((Author::name, early)).all_sync(conn)?;
            assert_eq!(counted, [("Terry".to_owned(), 0), ("Ursula".to_owned(), 1)], "{backend:?}");
            Ok(())
        })
        .unwrap();
    }
}

#[test]
fn set_default_moves_rows_and_do_nothing_leaves_the_database_to_refuse() {
    let sql = schema::create_table(Desk::meta(), manouche::db::Backend::Postgres).unwrap().join(";\n");
    assert!(sql.contains(r#"REFERENCES "reltests_room" ("id") ON DELETE NO ACTION"#), "{sql}");
    assert_eq!(Lamp::meta().field("room").unwrap().relation.as_ref().unwrap().on_delete, OnDelete::DoNothing);
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        let backend = db.backend();
        db.run_sync(move |conn| {
            let lobby = Room { id: 0, name: "lobby".into() }.save_sync(conn)?;
            assert_eq!(lobby.id, 1, "the default room");
            let attic = Room { id: 0, name: "attic".into() }.save_sync(conn)?;
            let desk = Desk { id: 0, room: ForeignKey::new(attic.id) }.save_sync(conn)?;

            // The attic goes; its desk moves to the lobby, and the collector says so.
            let rooms = manouche::db::model("reltests.Room").unwrap();
            let gone = rooms.delete(conn, &attic.id.to_string())?;
            assert_eq!(gone.total(), 1);
            assert_eq!(
                gone.defaulted,
                [(
                    "reltests.Desk".to_owned(),
                    "room".to_owned(),
                    vec![(desk.id.to_string(), format!("Desk object ({})", desk.id))]
                )]
            );
            assert_eq!(Desk::objects().get_sync(conn)?.room.id(), &lobby.id, "{backend:?}");

            // A lamp in the lobby: deleting the lobby is refused by the database, and nothing goes.
            Lamp { id: 0, room: ForeignKey::new(lobby.id) }.save_sync(conn)?;
            let refused = lobby.clone().delete_sync(conn);
            assert!(matches!(refused, Err(Error::Query(_))), "{backend:?}: {refused:?}");
            assert_eq!(Room::objects().count_sync(conn)?, 1);
            assert_eq!(Desk::objects().get_sync(conn)?.room.id(), &lobby.id, "the desk was not moved either");
            // Once nothing points to it, the lobby can go.
            Lamp::objects().delete_sync(conn)?;
            Desk::objects().delete_sync(conn)?;
            lobby.delete_sync(conn)?;
            assert_eq!(Room::objects().count_sync(conn)?, 0);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}

// Tables without a key between them meet in one plain Diesel query once declared together, as
// in Diesel; pairs joined by a key are declared by `#[model]` already.
diesel::allow_tables_to_appear_in_same_query!(reltests_room, reltests_genre);

#[test]
fn unrelated_tables_meet_in_plain_diesel_once_declared_together() {
    let _turn = TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for db in databases() {
        db.run_sync(|conn| {
            Room { id: 0, name: "fable".into() }.save_sync(conn)?;
            Room { id: 0, name: "attic".into() }.save_sync(conn)?;
            Genre { id: 0, name: "fable".into() }.save_sync(conn)?;
            // Rooms named like a genre: a subquery on another, unrelated table.
            let named: Vec<String> = reltests_room::table
                .filter(reltests_room::name.eq_any(reltests_genre::table.select(reltests_genre::name)))
                .select(reltests_room::name)
                .load(conn)?;
            assert_eq!(named, ["fable"]);
            // And a join on a condition of the user's.
            let pairs: Vec<(String, String)> = reltests_room::table
                .inner_join(reltests_genre::table.on(reltests_genre::name.eq(reltests_room::name)))
                .select((reltests_room::name, reltests_genre::name))
                .load(conn)?;
            assert_eq!(pairs, [("fable".to_owned(), "fable".to_owned())]);
            Ok::<_, Error>(())
        })
        .unwrap();
    }
}
