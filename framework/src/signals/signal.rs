use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once, RwLock};

type Receiver<T> = Arc<dyn Fn(&T) + Send + Sync>;

/// A signal carrying a `&T` to every connected receiver.
///
/// # Examples
///
/// ```
/// use manouche::signals::Signal;
/// static PRICE_CHANGED: Signal<i64> = Signal::new("price_changed");
/// let id = PRICE_CHANGED.connect(|cents| assert!(*cents > 0));
/// assert_eq!(PRICE_CHANGED.send(&1299), 1);
/// assert!(PRICE_CHANGED.disconnect(id));
/// assert_eq!(PRICE_CHANGED.send(&1299), 0);
/// ```
pub struct Signal<T: 'static> {
    name: &'static str,
    // A fast path: most signals have no receiver, and sending then takes no lock.
    connected: AtomicBool,
    receivers: RwLock<Vec<(ReceiverId, Receiver<T>)>>,
}

/// Identifies a connected receiver, for [`Signal::disconnect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiverId(u64);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl<T: 'static> Signal<T> {
    /// A signal with a name used in logs.
    pub const fn new(name: &'static str) -> Self {
        Signal { name, connected: AtomicBool::new(false), receivers: RwLock::new(Vec::new()) }
    }

    /// The signal's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Connects a receiver; it runs after those already connected.
    pub fn connect(&self, receiver: impl Fn(&T) + Send + Sync + 'static) -> ReceiverId {
        register_compiled_receivers();
        self.push(Arc::new(receiver))
    }

    fn push(&self, receiver: Receiver<T>) -> ReceiverId {
        let id = ReceiverId(NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let mut receivers = self.receivers.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        receivers.push((id, receiver));
        self.connected.store(true, Ordering::Release);
        id
    }

    /// Disconnects a receiver; returns whether it was connected.
    pub fn disconnect(&self, id: ReceiverId) -> bool {
        let mut receivers = self.receivers.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = receivers.len();
        receivers.retain(|(rid, _)| *rid != id);
        self.connected.store(!receivers.is_empty(), Ordering::Release);
        receivers.len() != before
    }

    /// Calls every receiver with `args`, in order; returns how many ran.
    ///
    /// A receiver that panics propagates the panic to the sender, as an exception in a Django
    /// receiver does (the request's panic guard turns it into a 500 page).
    pub fn send(&self, args: &T) -> usize {
        register_compiled_receivers();
        if !self.connected.load(Ordering::Acquire) {
            return 0;
        }
        // Clone the list so a receiver may connect or disconnect without deadlocking.
        let receivers: Vec<Receiver<T>> = {
            let guard = self.receivers.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.iter().map(|(_, r)| Arc::clone(r)).collect()
        };
        for receiver in &receivers {
            receiver(args);
        }
        receivers.len()
    }

    /// Whether any receiver is connected.
    pub fn has_receivers(&self) -> bool {
        register_compiled_receivers();
        self.connected.load(Ordering::Acquire)
    }

    #[doc(hidden)]
    pub fn __connect_compiled(&'static self, receiver: fn(&T)) {
        self.push(Arc::new(receiver));
    }
}

impl<T> fmt::Debug for Signal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A receiver declared with `#[receiver]`, collected at link time.
#[doc(hidden)]
#[derive(Debug)]
pub struct ReceiverEntry {
    pub connect: fn(),
    pub file: &'static str,
    pub line: u32,
}

inventory::collect!(ReceiverEntry);

fn register_compiled_receivers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut entries: Vec<&ReceiverEntry> = inventory::iter::<ReceiverEntry>().collect();
        entries.sort_by_key(|e| (e.file, e.line));
        for entry in entries {
            (entry.connect)();
        }
    });
}
