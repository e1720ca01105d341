//! Loads the TechEmpower tests with `wrk` on loopback, one server after the other (the
//! reference in plain actix-web, Manouche bare, Manouche with the middleware a project gets),
//! and prints one table: requests/s, p99 latency, server CPU time per request, peak RSS. It
//! draws the CPU-per-request ratios to the reference as an SVG.
//!
//! `cargo run -p manouche-bench --release --bin te_compare -- [SECONDS] [SVG]` with
//! `DATABASE_URL` a PostgreSQL database it may fill (tables `world` and `fortune`), and `wrk`
//! installed (`apt-get install wrk`).

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const ENDPOINTS: [&str; 6] = ["json", "plaintext", "db", "queries?q=20", "fortunes", "updates?q=20"];
const MODES: [(&str, &str); 3] = [
    ("reference", "actix-web + Diesel"),
    ("manouche", "Manouche, bare"),
    ("manouche-stack", "Manouche, default stack"),
];
/// Linux's `USER_HZ`: the unit of `/proc/<pid>/stat` times.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Default, Clone, Copy)]
struct Run {
    requests_per_second: f64,
    p99_ms: f64,
    cpu_us_per_request: f64,
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command (which may hold spaces) in parentheses.
    let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the command.
    let at = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    at(11) + at(12)
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn wait_listening(addr: SocketAddr) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// `wrk`'s `Requests/sec`, 99th percentile (ms) and request count.
fn parse_wrk(output: &str) -> (f64, f64, f64) {
    let number_with_unit = |text: &str| -> f64 {
        let text = text.trim();
        let (value, factor) = if let Some(v) = text.strip_suffix("us") {
            (v, 0.001)
        } else if let Some(v) = text.strip_suffix("ms") {
            (v, 1.0)
        } else if let Some(v) = text.strip_suffix('s') {
            (v, 1000.0)
        } else {
            (text, 1.0)
        };
        value.parse::<f64>().unwrap_or(0.0) * factor
    };
    let rps = output.lines().find_map(|l| l.trim().strip_prefix("Requests/sec:")).and_then(|v| v.trim().parse().ok());
    let p99 = output.lines().find_map(|l| l.trim().strip_prefix("99%")).map(number_with_unit);
    let requests = output
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    (rps.unwrap_or(0.0), p99.unwrap_or(0.0), requests.unwrap_or(0.0))
}

fn wrk(url: &str, seconds: u64, connections: u32) -> String {
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", url])
        .output()
        .expect("wrk runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn serve(binary: &PathBuf, mode: &str, addr: SocketAddr) -> Child {
    Command::new(binary)
        .args([mode, &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts")
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn svg(rows: &[(String, [Run; 3])]) -> String {
    let (width, height, left, top, bar) = (720.0, 360.0, 60.0, 40.0, 18.0);
    let max = rows
        .iter()
        .flat_map(|(_, runs)| {
            [
                runs[1].cpu_us_per_request / runs[0].cpu_us_per_request,
                runs[2].cpu_us_per_request / runs[0].cpu_us_per_request,
            ]
        })
        .fold(2.0_f64, f64::max)
        .ceil();
    let plot_h = height - top - 60.0;
    let y = |ratio: f64| top + plot_h - ratio / max * plot_h;
    let group = (width - left - 20.0) / rows.len() as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"{left}\" y=\"20\" font-size=\"14\">Server CPU time per request, as a multiple of plain actix-web + Diesel (lower is better)</text>\n"
    );
    for tick in 0..=(max as u32) {
        let ty = y(f64::from(tick));
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}×</text>\n",
            width - 20.0,
            left - 6.0,
            ty + 4.0
        ));
    }
    for (target, colour) in [(1.2, "#c33"), (1.5, "#e90")] {
        let ty = y(target);
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"{colour}\" stroke-dasharray=\"4 3\"/><text x=\"{}\" y=\"{:.1}\" fill=\"{colour}\" font-size=\"10\">target {target}×</text>\n",
            width - 20.0,
            left + 4.0,
            ty - 3.0
        ));
    }
    for (i, (name, runs)) in rows.iter().enumerate() {
        let x0 = left + group * i as f64 + group / 2.0 - bar;
        for (j, (run, colour)) in [(runs[1], "#36c"), (runs[2], "#9bd")].into_iter().enumerate() {
            let ratio = run.cpu_us_per_request / runs[0].cpu_us_per_request;
            let top_y = y(ratio);
            let x = x0 + bar * j as f64;
            out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{top_y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{ratio:.2}</text>\n",
                bar - 2.0,
                y(0.0) - top_y,
                x + bar / 2.0 - 1.0,
                top_y - 3.0
            ));
        }
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">/{}</text>\n",
            x0 + bar,
            y(0.0) + 16.0,
            name.split('?').next().unwrap_or(name)
        ));
    }
    let ly = height - 18.0;
    out.push_str(&format!(
        "<rect x=\"{left}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"#36c\"/><text x=\"{}\" y=\"{ly}\">Manouche, bare</text>\n\
         <rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"#9bd\"/><text x=\"{}\" y=\"{ly}\">Manouche, default stack (security, sessions, CSRF, auth, logging)</text>\n</svg>\n",
        ly - 10.0,
        left + 16.0,
        left + 140.0,
        ly - 10.0,
        left + 156.0
    ));
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let svg_path = args
        .get(1)
        .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../techempower.svg")), PathBuf::from);
    if std::env::var("DATABASE_URL").is_err() {
        eprintln!("error: set DATABASE_URL to a PostgreSQL database te_compare may fill");
        return ExitCode::from(2);
    }
    if Command::new("wrk").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        eprintln!("error: wrk is not installed (apt-get install wrk)");
        return ExitCode::from(2);
    }
    let binary = std::env::current_exe().expect("this program's path").with_file_name("te_server");
    let prepared = Command::new(&binary).arg("prepare").status().expect("te_server runs");
    if !prepared.success() {
        eprintln!("error: te_server prepare failed");
        return ExitCode::FAILURE;
    }
    let mut table: Vec<(String, [Run; 3])> = ENDPOINTS.iter().map(|e| ((*e).to_owned(), [Run::default(); 3])).collect();
    let mut rss = [0.0; 3];
    for (m, (mode, _)) in MODES.iter().enumerate() {
        let addr: SocketAddr = "127.0.0.1:18090".parse().expect("an address");
        let child = serve(&binary, mode, addr);
        if !wait_listening(addr) {
            eprintln!("error: {mode} did not start");
            stop(child);
            return ExitCode::FAILURE;
        }
        let pid = child.id();
        for (e, endpoint) in ENDPOINTS.iter().enumerate() {
            let url = format!("http://{addr}/{endpoint}");
            let mut body = String::new();
            let check = TcpStream::connect(addr).and_then(|mut s| {
                use std::io::Write;
                s.set_read_timeout(Some(Duration::from_secs(10)))?;
                write!(s, "GET /{endpoint} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
                s.read_to_string(&mut body)
            });
            if check.is_err() || !body.starts_with("HTTP/1.1 200") {
                eprintln!("error: {mode} /{endpoint} does not answer 200: {}", body.lines().next().unwrap_or(""));
                stop(child);
                return ExitCode::FAILURE;
            }
            let _ = wrk(&url, 2, 64);
            let before = cpu_ticks(pid);
            let output = wrk(&url, seconds, 64);
            let after = cpu_ticks(pid);
            let (rps, p99, requests) = parse_wrk(&output);
            let cpu_us = (after - before) as f64 / TICKS_PER_SECOND * 1e6 / requests.max(1.0);
            table[e].1[m] = Run { requests_per_second: rps, p99_ms: p99, cpu_us_per_request: cpu_us };
            eprintln!("{mode} /{endpoint}: {rps:.0} req/s, p99 {p99:.2} ms, {cpu_us:.1} µs CPU per request");
        }
        rss[m] = peak_rss_mb(pid);
        stop(child);
    }
    println!(
        "| endpoint | requests/s: reference / bare / stack | p99 ms: reference / bare / stack | server CPU µs per request: reference / bare / stack | CPU ratio bare | CPU ratio stack |"
    );
    println!("|---|---|---|---|---|---|");
    for (endpoint, runs) in &table {
        let [r, b, s] = runs;
        println!(
            "| /{endpoint} | {:.0} / {:.0} / {:.0} | {:.2} / {:.2} / {:.2} | {:.1} / {:.1} / {:.1} | {:.2}× | {:.2}× |",
            r.requests_per_second,
            b.requests_per_second,
            s.requests_per_second,
            r.p99_ms,
            b.p99_ms,
            s.p99_ms,
            r.cpu_us_per_request,
            b.cpu_us_per_request,
            s.cpu_us_per_request,
            b.cpu_us_per_request / r.cpu_us_per_request,
            s.cpu_us_per_request / r.cpu_us_per_request
        );
    }
    println!("| peak RSS (MB) | {:.1} / {:.1} / {:.1} | | | | |", rss[0], rss[1], rss[2]);
    if let Err(error) = std::fs::write(&svg_path, svg(&table)) {
        eprintln!("error: cannot write {}: {error}", svg_path.display());
        return ExitCode::FAILURE;
    }
    eprintln!("chart written to {}", svg_path.display());
    ExitCode::SUCCESS
}
