use std::io::Write;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes log lines from a background thread, so logging never blocks a worker on stderr.
struct Logger {
    level: log::LevelFilter,
    lines: SyncSender<String>,
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!("[{}] {:<5} {}: {}\n", timestamp(), record.level(), record.target(), record.args());
        // A full queue drops the line rather than stall a request.
        if let Err(TrySendError::Full(_)) = self.lines.try_send(line) {}
    }

    fn flush(&self) {}
}

/// Installs the project's logger once per process; later calls only adjust nothing.
pub(crate) fn install_logger(level: log::LevelFilter) {
    let (lines, receiver) = sync_channel::<String>(4096);
    let logger = Logger { level, lines };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
        let spawned = std::thread::Builder::new().name("manouche-log".into()).spawn(move || {
            let stderr = std::io::stderr();
            for line in receiver {
                let _ = stderr.lock().write_all(line.as_bytes());
            }
        });
        if spawned.is_err() {
            log::set_max_level(log::LevelFilter::Off);
        }
    }
}

/// `2026-11-23 21:07:00` in UTC, without a date library.
fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}
