//! Migration `0001_initial` of the `tasks` app, written by `makemigrations` (Manouche 0.1.0) on 2026-12-05 00:40 UTC.
//!
//! - Create model TaskRow
//! - Create model TaskTick

use manouche::migrations::prelude::*;

/// The migration.
pub fn migration() -> Migration {
    Migration::new("0001_initial")
        .operation(create_model(
            "TaskRow",
            "manouche_task",
            [
                field("id", FieldType::Text).primary_key().max_length(36),
                field("task", FieldType::Text).max_length(255),
                field("queue", FieldType::Text).max_length(100).db_index(),
                field("priority", FieldType::Integer),
                field("status", FieldType::Text).max_length(10).db_index(),
                field("args", FieldType::Text),
                field("attempts", FieldType::Integer),
                field("run_after", FieldType::BigInt).db_index(),
                field("enqueued_at", FieldType::BigInt),
                field("started_at", FieldType::BigInt).null(),
                field("finished_at", FieldType::BigInt).null(),
                field("locked_until", FieldType::BigInt),
                field("worker", FieldType::Text).max_length(100),
                field("return_value", FieldType::Text).null(),
                field("errors", FieldType::Text),
                field("worker_ids", FieldType::Text),
            ],
        ))
        .operation(create_model(
            "TaskTick",
            "manouche_task_tick",
            [
                field("key", FieldType::Text).primary_key().max_length(300),
                field("claimed_at", FieldType::BigInt).db_index(),
            ],
        ))
}
