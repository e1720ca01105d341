//! Items used only by macro output. Not public API.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder};

pub use crate::auth::{__guard as guard, Guard};
pub use crate::signals::{ReceiverEntry, Signal};
pub use crate::urls::UrlArg;
pub use crate::views::{DeclaredView, LocalBoxFuture, View, ViewInfo, ViewToken};
pub use askama;
pub use diesel;
pub use inventory;
pub use serde;
pub use std::any::TypeId;

// What `#[model]` and `#[derive(Choices)]` expansions call; not public API.
pub use crate::db::bulk::{BULK_CHUNK, bulk_rows};
pub use crate::db::choices::not_a_choice;
pub use crate::db::collector::__delete_related as delete_related;
pub use crate::db::model::ModelEntry;
pub use crate::db::ordering::__column_term as column_term;
pub use crate::db::queryset::__attach_targets as attach_targets;
pub use crate::db::registry::Entry as RegistryEntry;
pub use crate::db::subqueries::ForUpdate;
pub use crate::db::text::{__like_pattern as like_pattern, __lower as lower};
pub use crate::db::types::{Scaled, ScaledOption};

/// Runs one extractor, turning its rejection into a framework error (400, 404, 413, ...).
pub async fn extract<T: FromRequest>(req: &HttpRequest, payload: &mut Payload) -> crate::Result<T> {
    T::from_request(req, payload).await.map_err(|e| crate::Error::Request(e.into()))
}

/// A view's `Responder` return value as a response.
pub fn respond<R: Responder>(value: R, req: &HttpRequest) -> crate::Result<HttpResponse> {
    Ok(value.respond_to(req).map_into_boxed_body())
}

/// A view's `Result` return value: errors go to the project's error pages.
pub fn respond_result<R: Responder, E: Into<crate::Error>>(
    value: Result<R, E>,
    req: &HttpRequest,
) -> crate::Result<HttpResponse> {
    match value {
        Ok(value) => Ok(value.respond_to(req).map_into_boxed_body()),
        Err(error) => Err(error.into()),
    }
}

/// Typed reversing for a `#[view]`.
pub fn reverse_view<V: 'static>(name: &str, args: &[(&str, String)]) -> Result<String, crate::urls::NoReverseMatch> {
    crate::urls::reverse_view(TypeId::of::<V>(), name, args)
}

/// Connects a `#[receiver]` function; the signature check happens here.
pub fn connect_receiver<T: 'static>(signal: &'static Signal<T>, receiver: fn(&T)) {
    signal.__connect_compiled(receiver);
}

pub use actix_web::HttpRequest as ActixRequest;
pub use actix_web::HttpResponse as ActixResponse;
pub use actix_web::dev::Payload as ActixPayload;

/// A model instance shown as text: through its `Display` when it has one (autoref picks this
/// impl first), else as Django's `Product object (1)`.
#[derive(Debug)]
pub struct Shown<'a, T>(pub &'a T);

/// The `Display` way of [`Shown`].
pub trait ViaDisplay {
    /// The text.
    fn __shown(&self) -> String;
}

impl<T: std::fmt::Display> ViaDisplay for Shown<'_, T> {
    fn __shown(&self) -> String {
        self.0.to_string()
    }
}

/// The fallback way of [`Shown`]: the model's name and primary key.
pub trait ViaPk {
    /// The text.
    fn __shown(&self) -> String;
}

impl<T: crate::db::Model> ViaPk for &Shown<'_, T> {
    fn __shown(&self) -> String {
        format!("{} object ({})", T::meta().name, crate::db::FieldValue::to_text(&self.0.pk()))
    }
}

/// What `#[task]` expansions call; not public API.
pub mod tasks {
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use crate::tasks::{ResultRecord, TaskError, TaskOptions, TaskResult, TaskSpec, TaskValue, Tasks, TasksError};

    pub use serde_json::Value as Json;

    /// Checks at compile time that `T` can cross to a worker (the error points at `T`).
    pub const fn assert_value<T: TaskValue>() {}

    fn args<A: Serialize>(spec: &TaskSpec, args: &A) -> Result<Value, TasksError> {
        serde_json::to_value(args)
            .map_err(|e| TasksError::Invalid(format!("the arguments of task `{}` do not serialise: {e}", spec.name)))
    }

    fn typed<R: DeserializeOwned>(tasks: &Tasks, record: ResultRecord) -> TaskResult<R> {
        TaskResult::new(record, tasks.clone())
    }

    /// `my_task.enqueue(...)`.
    pub async fn enqueue<R: DeserializeOwned + Send + 'static, A: Serialize>(
        spec: &'static TaskSpec,
        options: &TaskOptions,
        arguments: &A,
    ) -> Result<TaskResult<R>, TasksError> {
        let value = args(spec, arguments)?;
        let tasks = crate::tasks::tasks();
        // The dummy backend only records in memory: no need to leave the worker thread.
        if tasks.broker().kind() == "dummy" {
            let record = tasks.enqueue_raw(spec, options, value)?;
            return Ok(typed(&tasks, record));
        }
        let options = options.clone();
        let handle = tasks.clone();
        let record = crate::tasks::blocking(move || handle.enqueue_raw(spec, &options, value)).await?;
        Ok(typed(&tasks, record))
    }

    /// `my_task.enqueue_sync(...)`.
    pub fn enqueue_sync<R: DeserializeOwned, A: Serialize>(
        spec: &'static TaskSpec,
        options: &TaskOptions,
        arguments: &A,
    ) -> Result<TaskResult<R>, TasksError> {
        let value = args(spec, arguments)?;
        let tasks = crate::tasks::tasks();
        let record = tasks.enqueue_raw(spec, options, value)?;
        Ok(typed(&tasks, record))
    }

    /// `my_task.enqueue_on_commit(...)`: checked and serialised now, enqueued when the
    /// transaction commits; returns the id the result will have.
    pub fn enqueue_on_commit<A: Serialize>(
        spec: &'static TaskSpec,
        options: &TaskOptions,
        arguments: &A,
    ) -> Result<String, TasksError> {
        let value = args(spec, arguments)?;
        let tasks = crate::tasks::tasks();
        let message = tasks.prepare(spec, options, value)?;
        let id = message.id.clone();
        crate::db::on_commit(move || {
            let id = message.id.clone();
            if let Err(error) = tasks.send_message(message) {
                log::error!(target: "manouche.tasks", "task {} [{id}] could not be enqueued after the commit: {error}", spec.name);
            }
        });
        Ok(id)
    }

    /// `my_task.get_result(id)`.
    pub fn get_result<R: DeserializeOwned>(id: &str) -> Result<TaskResult<R>, TasksError> {
        crate::tasks::tasks().get_result(id)
    }

    /// A task's arguments, decoded.
    pub fn decode<A: DeserializeOwned>(name: &str, value: Value) -> Result<A, TaskError> {
        serde_json::from_value(value)
            .map_err(|e| TaskError::of_kind("arguments", format!("the arguments of `{name}` do not decode: {e}"), true))
    }

    /// A task's plain return value.
    pub fn from_value<T: Serialize>(value: T) -> Result<Value, TaskError> {
        serde_json::to_value(value)
            .map_err(|e| TaskError::of_kind("error", format!("the return value does not serialise: {e}"), true))
    }

    /// A task's `Result` return value; a [`TaskError`] error keeps its `permanent` flag.
    pub fn from_result<T: Serialize, E: std::fmt::Display + 'static>(result: Result<T, E>) -> Result<Value, TaskError> {
        match result {
            Ok(value) => from_value(value),
            Err(error) => Err(match (&error as &dyn std::any::Any).downcast_ref::<TaskError>() {
                Some(task_error) => task_error.clone(),
                None => TaskError::new(error),
            }),
        }
    }

    /// A runtime for documentation examples.
    pub fn test_runtime() -> actix_web::rt::SystemRunner {
        actix_web::rt::System::new()
    }
}
