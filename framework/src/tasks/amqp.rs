//! The `amqp` backend: RabbitMQ (Celery's default broker) through `amqprs`, with results in the
//! project's database (the `tasks` app's table, as Celery pairs a broker with a result backend).
//!
//! - One durable queue per task queue (`<prefix>.<queue>`, with priorities), persistent
//!   messages, and publisher confirms: `enqueue` returns once RabbitMQ has taken the message.
//! - Workers consume with manual acknowledgements and a prefetch of their concurrency; a task is
//!   acknowledged only after it finished. A worker that dies (its connection closes) leaves its
//!   unacknowledged tasks to RabbitMQ, which delivers them to another worker.
//! - `run_after` and retry backoff: the message waits in a delay queue
//!   (`<prefix>.delay.<queue>.<ms>`, one per power-of-two delay, each with a fixed TTL, so
//!   messages expire in order) that dead-letters it into the task queue; a worker receiving a
//!   message not yet due sends it through a shorter delay queue.
//!
//! amqprs is asynchronous: the backend keeps one thread with its own runtime for the connection,
//! and the blocking [`Broker`] methods hand it their work.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use amqprs::callbacks::{ChannelCallback, ConnectionCallback};
use amqprs::channel::{
    BasicAckArguments, BasicConsumeArguments, BasicNackArguments, BasicPublishArguments, BasicQosArguments, Channel,
    ConfirmSelectArguments, QueueDeclareArguments,
};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::{Ack, BasicProperties, Cancel, Close, CloseChannel, FieldTable, FieldValue, Nack, Return};
use tokio::sync::{Mutex, Notify};

use super::broker::{Broker, Claim, QueueDepth, Stats, TasksError};
use super::database::Store;
use super::result::{ResultRecord, TaskMessage};
use super::{TaskSettings, now_millis};

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    host: String,
    port: u16,
    user: String,
    password: String,
    vhost: String,
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Reads `amqp://user:password@host:port/vhost` (RabbitMQ's URI spec; the vhost `%2f` is `/`).
fn parse(location: &str) -> Result<Address, String> {
    let bad = |why: &str| format!("`{location}` is not an AMQP URL (amqp://user:password@host:port/vhost): {why}");
    let rest = location.strip_prefix("amqp://").ok_or_else(|| bad("it must start with amqp://"))?;
    let (authority, vhost) = rest.split_once('/').map_or((rest, None), |(a, v)| (a, Some(v)));
    let (credentials, host_port) = authority.rsplit_once('@').map_or(("guest:guest", authority), |(c, h)| (c, h));
    let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad("the port is not a number"))?),
        None => (host_port, 5672),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(Address {
        host: host.to_owned(),
        port,
        user: decode(user),
        password: decode(password),
        vhost: vhost.filter(|v| !v.is_empty()).map_or_else(|| "/".to_owned(), decode),
    })
}

/// RabbitMQ priorities run 0–9 (`x-max-priority`); Django's -100–100 map onto them.
fn amqp_priority(priority: i32) -> u8 {
    u8::try_from((priority.clamp(-100, 100) + 100) * 9 / 200).unwrap_or(0)
}

/// The largest power-of-two number of milliseconds not above `remaining`.
fn bucket(remaining: i64) -> i64 {
    let remaining = u64::try_from(remaining.max(1)).unwrap_or(1);
    i64::try_from(1u64 << (63 - remaining.leading_zeros())).unwrap_or(i64::MAX)
}

/// Publisher confirms as they arrive on the publishing channel.
#[derive(Debug, Default)]
struct Confirms {
    acked: u64,
    nacked: Vec<u64>,
}

struct ConfirmCallback {
    state: Arc<StdMutex<Confirms>>,
    notify: Arc<Notify>,
}

#[async_trait::async_trait]
impl ChannelCallback for ConfirmCallback {
    async fn close(&mut self, _channel: &Channel, close: CloseChannel) -> Result<(), amqprs::error::Error> {
        log::warn!(target: "manouche.tasks", "amqp: the server closed a channel: {close}");
        self.notify.notify_waiters();
        Ok(())
    }
    async fn cancel(&mut self, _channel: &Channel, _cancel: Cancel) -> Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn flow(&mut self, _channel: &Channel, active: bool) -> Result<bool, amqprs::error::Error> {
        Ok(active)
    }
    async fn publish_ack(&mut self, _channel: &Channel, ack: Ack) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.acked = state.acked.max(ack.delivery_tag());
        drop(state);
        self.notify.notify_waiters();
    }
    async fn publish_nack(&mut self, _channel: &Channel, nack: Nack) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.nacked.push(nack.delivery_tag());
        drop(state);
        self.notify.notify_waiters();
    }
    async fn publish_return(&mut self, _channel: &Channel, _ret: Return, _props: BasicProperties, _content: Vec<u8>) {}
}

struct QuietConnection;

#[async_trait::async_trait]
impl ConnectionCallback for QuietConnection {
    async fn close(&mut self, _connection: &Connection, close: Close) -> Result<(), amqprs::error::Error> {
        log::warn!(target: "manouche.tasks", "amqp: the server closed the connection: {close}");
        Ok(())
    }
    async fn blocked(&mut self, _connection: &Connection, reason: String) {
        log::warn!(target: "manouche.tasks", "amqp: the server blocks publishing: {reason}");
    }
    async fn unblocked(&mut self, _connection: &Connection) {}
    async fn secret_updated(&mut self, _connection: &Connection) {}
}

/// The open connection with its publishing channel (in confirm mode).
struct Link {
    connection: Connection,
    publisher: Channel,
    published: u64,
    confirms: Arc<StdMutex<Confirms>>,
    notify: Arc<Notify>,
    declared: HashSet<String>,
}

/// Deliveries waiting for a worker thread: `(delivery tag, redelivered, body)`. Threads wait on
/// it with a timeout each, without holding anything the acknowledgements need.
#[derive(Debug, Default)]
struct Inbox {
    queue: StdMutex<std::collections::VecDeque<(u64, bool, Vec<u8>)>>,
    ready: std::sync::Condvar,
}

impl Inbox {
    fn push(&self, delivery: (u64, bool, Vec<u8>)) {
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push_back(delivery);
        self.ready.notify_one();
    }

    fn clear(&self) {
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    fn pop(&self, wait: Duration) -> Option<(u64, bool, Vec<u8>)> {
        let queue = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut queue, _) = self
            .ready
            .wait_timeout_while(queue, wait, |queue| queue.is_empty())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queue.pop_front()
    }
}

/// The consuming side of a worker process.
struct Consumer {
    /// Kept open: dropping a connection or channel closes it.
    connection: Connection,
    _publisher: Channel,
    channel: Channel,
}

/// The RabbitMQ backend.
pub struct AmqpBroker {
    address: Address,
    prefix: String,
    timeout: Duration,
    prefetch: u16,
    runtime: tokio::runtime::Handle,
    link: Arc<Mutex<Option<Link>>>,
    consumer: Arc<Mutex<Option<Consumer>>>,
    /// The consumer's deliveries, waiting for worker threads.
    inbox: Arc<Inbox>,
    store: Store,
    /// Ends the connection's thread (once the connections are closed).
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for AmqpBroker {
    fn drop(&mut self) {
        // Connections and channels close themselves on drop with a task of the runtime they
        // belong to: they are dropped there, then the thread ends.
        let (link, consumer, shutdown) = (Arc::clone(&self.link), Arc::clone(&self.consumer), self.shutdown.take());
        self.runtime.spawn(async move {
            if let Some(link) = link.lock().await.take() {
                let _ = link.connection.close().await;
            }
            if let Some(consumer) = consumer.lock().await.take() {
                let _ = consumer.connection.close().await;
            }
            if let Some(shutdown) = shutdown {
                let _ = shutdown.send(());
            }
        });
    }
}

impl std::fmt::Debug for AmqpBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpBroker")
            .field("host", &self.address.host)
            .field("port", &self.address.port)
            .field("vhost", &self.address.vhost)
            .finish_non_exhaustive()
    }
}

fn unavailable(error: impl std::fmt::Display) -> TasksError {
    TasksError::Unavailable(format!("amqp: {error}"))
}

impl AmqpBroker {
    /// A backend on the RabbitMQ server at `settings.location`, storing results in `db`.
    ///
    /// # Errors
    ///
    /// A message when the location is missing or not an AMQP URL, or the thread cannot start.
    pub fn new(settings: &TaskSettings, db: crate::db::Database) -> Result<Self, String> {
        let address = parse(settings.location()?)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("amqp: cannot start its runtime: {e}"))?;
        let handle = runtime.handle().clone();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("manouche-amqp".into())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })
            .map_err(|e| format!("amqp: cannot start its thread: {e}"))?;
        Ok(AmqpBroker {
            address,
            prefix: settings.prefix.clone(),
            timeout: Duration::from_secs(settings.timeout.max(1)),
            prefetch: u16::try_from(settings.concurrency.max(1)).unwrap_or(u16::MAX),
            runtime: handle,
            link: Arc::new(Mutex::new(None)),
            consumer: Arc::new(Mutex::new(None)),
            inbox: Arc::new(Inbox::default()),
            store: Store::new(db),
            shutdown: Some(shutdown),
        })
    }

    /// Runs `future` on the connection's thread and waits for it, up to `limit`.
    fn block<T: Send + 'static>(
        &self,
        limit: Duration,
        future: impl Future<Output = Result<T, TasksError>> + Send + 'static,
    ) -> Result<T, TasksError> {
        let (sender, receiver) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = sender.send(tokio::time::timeout(limit, future).await);
        });
        match receiver.recv_timeout(limit + Duration::from_secs(1)) {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(_) => Err(unavailable(format!("no answer within {limit:?}"))),
        }
    }

    fn queue_name(prefix: &str, queue: &str) -> String {
        format!("{prefix}.{queue}")
    }

    async fn open(address: &Address) -> Result<Link, TasksError> {
        let args = OpenConnectionArguments::new(&address.host, address.port, &address.user, &address.password)
            .virtual_host(&address.vhost)
            .finish();
        let connection = Connection::open(&args).await.map_err(unavailable)?;
        connection.register_callback(QuietConnection).await.map_err(unavailable)?;
        let publisher = connection.open_channel(None).await.map_err(unavailable)?;
        let confirms = Arc::new(StdMutex::new(Confirms::default()));
        let notify = Arc::new(Notify::new());
        publisher
            .register_callback(ConfirmCallback { state: Arc::clone(&confirms), notify: Arc::clone(&notify) })
            .await
            .map_err(unavailable)?;
        publisher.confirm_select(ConfirmSelectArguments::default()).await.map_err(unavailable)?;
        Ok(Link { connection, publisher, published: 0, confirms, notify, declared: HashSet::new() })
    }

    async fn declare(channel: &Channel, name: &str, arguments: FieldTable) -> Result<u32, TasksError> {
        let args = QueueDeclareArguments::durable_client_named(name).arguments(arguments).finish();
        let declared = channel.queue_declare(args).await.map_err(unavailable)?;
        Ok(declared.map_or(0, |(_, count, _)| count))
    }

    fn task_queue_arguments() -> FieldTable {
        let mut table = FieldTable::new();
        if let Ok(key) = "x-max-priority".try_into() {
            table.insert(key, FieldValue::B(9));
        }
        table
    }

    fn delay_queue_arguments(target: &str, delay: i64) -> FieldTable {
        let mut table = FieldTable::new();
        let mut put = |key: &str, value: FieldValue| {
            if let Ok(key) = key.try_into() {
                table.insert(key, value);
            }
        };
        put("x-message-ttl", FieldValue::l(delay));
        put("x-dead-letter-exchange", FieldValue::S("".try_into().unwrap_or_default()));
        put("x-dead-letter-routing-key", FieldValue::S(target.try_into().unwrap_or_default()));
        table
    }

    /// Publishes `message` (to its queue, or through a delay queue when not due) and waits for
    /// the server's confirm.
    async fn publish(
        link_slot: Arc<Mutex<Option<Link>>>,
        address: Address,
        prefix: String,
        message: TaskMessage,
    ) -> Result<(), TasksError> {
        let mut slot = link_slot.lock().await;
        if slot.as_ref().is_none_or(|link| !link.connection.is_open() || !link.publisher.is_open()) {
            *slot = Some(Self::open(&address).await?);
        }
        let result = match slot.as_mut() {
            Some(link) => Self::publish_on(link, &prefix, &message).await,
            None => Err(unavailable("no connection")),
        };
        if result.is_err() {
            *slot = None;
        }
        result
    }

    async fn publish_on(link: &mut Link, prefix: &str, message: &TaskMessage) -> Result<(), TasksError> {
        let target = Self::queue_name(prefix, &message.queue);
        if link.declared.insert(target.clone())
            && let Err(error) = Self::declare(&link.publisher, &target, Self::task_queue_arguments()).await
        {
            link.declared.remove(&target);
            return Err(error);
        }
        let remaining = message.run_after - now_millis();
        let routing_key = if remaining > 0 {
            let delay = bucket(remaining);
            let name = format!("{prefix}.delay.{}.{delay}", message.queue);
            if link.declared.insert(name.clone())
                && let Err(error) =
                    Self::declare(&link.publisher, &name, Self::delay_queue_arguments(&target, delay)).await
            {
                return Err(error);
            }
            name
        } else {
            target
        };
        let body = serde_json::to_vec(&message).map_err(|e| TasksError::Invalid(e.to_string()))?;
        let mut properties = BasicProperties::default();
        properties
            .with_persistence(true)
            .with_priority(amqp_priority(message.priority))
            .with_message_id(&message.id)
            .with_content_type("application/json");
        let waiting = link.notify.notified();
        tokio::pin!(waiting);
        waiting.as_mut().enable();
        if let Err(error) =
            link.publisher.basic_publish(properties, body, BasicPublishArguments::new("", &routing_key)).await
        {
            return Err(unavailable(error));
        }
        link.published += 1;
        let tag = link.published;
        loop {
            {
                let state = link.confirms.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if state.nacked.contains(&tag) {
                    return Err(unavailable(format!("the server refused task {} (nack)", message.id)));
                }
                if state.acked >= tag {
                    return Ok(());
                }
            }
            if !link.publisher.is_open() {
                return Err(unavailable("the channel closed before the server confirmed the task"));
            }
            waiting.as_mut().await;
            waiting.set(link.notify.notified());
            waiting.as_mut().enable();
        }
    }

    fn publish_sync(&self, message: &TaskMessage) -> Result<(), TasksError> {
        let future = Self::publish(Arc::clone(&self.link), self.address.clone(), self.prefix.clone(), message.clone());
        self.block(self.timeout, future)
    }

    /// Opens the consumer of `queues` unless it is open: its deliveries go to `inbox`.
    async fn ensure_consumer(
        consumer_slot: Arc<Mutex<Option<Consumer>>>,
        inbox: Arc<Inbox>,
        address: Address,
        prefix: String,
        queues: Vec<String>,
        prefetch: u16,
        worker: String,
    ) -> Result<(), TasksError> {
        let mut slot = consumer_slot.lock().await;
        if slot.as_ref().is_some_and(|c| c.connection.is_open() && c.channel.is_open()) {
            return Ok(());
        }
        *slot = None;
        // Deliveries of a closed channel cannot be acknowledged; RabbitMQ sends them again.
        inbox.clear();
        let link = Self::open(&address).await?;
        let channel = link.connection.open_channel(None).await.map_err(unavailable)?;
        channel.basic_qos(BasicQosArguments::new(0, prefetch, false)).await.map_err(unavailable)?;
        for queue in &queues {
            let name = Self::queue_name(&prefix, queue);
            Self::declare(&channel, &name, Self::task_queue_arguments()).await?;
            let (_tag, mut receiver) = channel
                .basic_consume_rx(
                    BasicConsumeArguments::new(&name, &format!("{worker}.{queue}")).manual_ack(true).finish(),
                )
                .await
                .map_err(unavailable)?;
            let inbox = Arc::clone(&inbox);
            tokio::spawn(async move {
                while let Some(delivery) = receiver.recv().await {
                    let (tag, again) =
                        delivery.deliver.map(|d| (d.delivery_tag(), d.redelivered())).unwrap_or_default();
                    inbox.push((tag, again, delivery.content.unwrap_or_default()));
                }
            });
        }
        *slot = Some(Consumer { connection: link.connection, _publisher: link.publisher, channel });
        Ok(())
    }

    fn settle(&self, tag: &str, ack: bool) -> Result<(), TasksError> {
        let tag: u64 = tag.parse().map_err(|_| TasksError::Invalid(format!("`{tag}` is not a delivery tag")))?;
        let slot = Arc::clone(&self.consumer);
        self.block(self.timeout, async move {
            let channel = slot.lock().await.as_ref().map(|consumer| consumer.channel.clone());
            let Some(channel) = channel else {
                return Err(unavailable("the consumer is gone; the server delivers the task again"));
            };
            if ack {
                channel.basic_ack(BasicAckArguments::new(tag, false)).await.map_err(unavailable)
            } else {
                channel.basic_nack(BasicNackArguments::new(tag, false, true)).await.map_err(unavailable)
            }
        })
    }
}

impl Broker for AmqpBroker {
    fn kind(&self) -> &'static str {
        "amqp"
    }

    fn enqueue(&self, message: &TaskMessage) -> Result<(), TasksError> {
        self.store.insert(message)?;
        if let Err(error) = self.publish_sync(message) {
            // Not enqueued: the result row would wait forever.
            let mut gone = ResultRecord::ready(message);
            gone.status = super::TaskStatus::Failed;
            gone.finished_at = Some(now_millis());
            gone.errors.push(super::AttemptError { attempt: 0, kind: "broker".into(), message: error.to_string() });
            let _ = self.store.save(&gone, None);
            return Err(error);
        }
        Ok(())
    }

    fn claim(&self, queues: &[String], worker: &str, wait: Duration) -> Result<Option<Claim>, TasksError> {
        let future = Self::ensure_consumer(
            Arc::clone(&self.consumer),
            Arc::clone(&self.inbox),
            self.address.clone(),
            self.prefix.clone(),
            queues.to_vec(),
            self.prefetch,
            worker.to_owned(),
        );
        self.block(self.timeout, future)?;
        let Some((tag, redelivered, body)) = self.inbox.pop(wait) else { return Ok(None) };
        let receipt = tag.to_string();
        let message: TaskMessage = match serde_json::from_slice(&body) {
            Ok(message) => message,
            Err(error) => {
                log::error!(target: "manouche.tasks", "amqp: delivery {tag} is not a task ({error}); dropped");
                self.settle(&receipt, true)?;
                return Ok(None);
            }
        };
        if message.run_after > now_millis() + 5 {
            // Came out of a longer delay queue early: through a shorter one.
            self.publish_sync(&message)?;
            self.settle(&receipt, true)?;
            return Ok(None);
        }
        Ok(Some(Claim { message, receipt, redelivered }))
    }

    fn heartbeat(&self, _claim: &Claim, _worker: &str) -> Result<(), TasksError> {
        // RabbitMQ keeps an unacknowledged delivery for as long as the connection lives.
        Ok(())
    }

    fn started(&self, _claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        self.store.save(record, None)
    }

    fn finish(&self, claim: &Claim, record: &ResultRecord) -> Result<(), TasksError> {
        self.store.save(record, None)?;
        self.settle(&claim.receipt, true)
    }

    fn retry(&self, claim: &Claim, message: &TaskMessage, record: &ResultRecord) -> Result<(), TasksError> {
        self.store.save(record, Some(message.run_after))?;
        self.publish_sync(message)?;
        self.settle(&claim.receipt, true)
    }

    fn release(&self, claim: &Claim) -> Result<(), TasksError> {
        self.settle(&claim.receipt, false)
    }

    fn get(&self, id: &str) -> Result<Option<ResultRecord>, TasksError> {
        self.store.get(id)
    }

    fn claim_tick(&self, task: &str, tick: i64, keep: Duration) -> Result<bool, TasksError> {
        self.store.claim_tick(task, tick, keep)
    }

    fn purge(&self, age: Duration) -> Result<u64, TasksError> {
        self.store.purge(age)
    }

    fn stats(&self) -> Result<Stats, TasksError> {
        let running: HashMap<String, u64> = self.store.running_by_queue()?;
        let mut names: Vec<String> = running.keys().cloned().collect();
        names.extend(self.store.queues()?);
        names.sort();
        names.dedup();
        let address = self.address.clone();
        let prefix = self.prefix.clone();
        let counts = self.block(self.timeout, {
            let names = names.clone();
            async move {
                let link = Self::open(&address).await?;
                let mut counts = Vec::new();
                for queue in &names {
                    counts.push(
                        Self::declare(&link.publisher, &Self::queue_name(&prefix, queue), Self::task_queue_arguments())
                            .await?,
                    );
                }
                let _ = link.connection.close().await;
                Ok(counts)
            }
        })?;
        let queues = names
            .into_iter()
            .zip(counts)
            .map(|(queue, waiting)| {
                let running = running.get(&queue).copied().unwrap_or(0);
                QueueDepth { queue, waiting: u64::from(waiting), running }
            })
            .collect();
        Ok(Stats { queues, failures: self.store.failures()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_read_as_rabbitmq_reads_them() {
        let a = parse("amqp://guest:guest@127.0.0.1:5672/%2f").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.user.as_str(), a.vhost.as_str()), ("127.0.0.1", 5672, "guest", "/"));
        assert_eq!(parse("amqp://rabbit").unwrap().vhost, "/");
        assert_eq!(parse("amqp://u:p%40ss@h:1/shop").unwrap().password, "p@ss");
        assert!(parse("http://x").is_err());
        assert!(parse("amqp://h:port/").is_err());
    }

    #[test]
    fn priorities_and_delays_map_onto_rabbitmq() {
        assert_eq!((amqp_priority(-100), amqp_priority(0), amqp_priority(100)), (0, 4, 9));
        assert_eq!((bucket(1), bucket(1000), bucket(1024), bucket(1500)), (1, 512, 1024, 1024));
    }
}
