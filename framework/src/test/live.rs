use std::fmt;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;

use crate::Project;

/// A real HTTP server on a free loopback port, in a background thread, stopped when dropped:
/// Django's `LiveServerTestCase`, for tests that need a socket (browsers, raw HTTP, load).
///
/// # Examples
///
/// ```
/// use manouche::prelude::*;
/// use std::io::{Read, Write};
///
/// #[view(GET)]
/// async fn ping() -> &'static str { "pong" }
///
/// let project = Project::new(Settings::for_tests())
///     .app(App::new("site").urls(urlpatterns![manouche::urls::path("ping/", ping)]));
/// let server = manouche::test::LiveServer::start(project)?;
/// let mut stream = std::net::TcpStream::connect(server.addr())?;
/// write!(stream, "GET /ping/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// let mut response = String::new();
/// stream.read_to_string(&mut response)?;
/// assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("pong"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LiveServer {
    addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for LiveServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl LiveServer {
    /// Builds the project and serves it with one worker on `127.0.0.1`, allowing the hosts
    /// `localhost` and `127.0.0.1`.
    ///
    /// # Errors
    ///
    /// When the project does not build or no port can be bound.
    pub fn start(project: Project) -> crate::Result<Self> {
        let mut settings = project.settings_arc()?.as_ref().clone();
        for host in ["localhost", "127.0.0.1"] {
            if !settings.host_allowed(host) {
                settings.allowed_hosts.push(host.into());
            }
        }
        let server_settings: crate::http::ServerSettings = settings.section()?;
        let site = project.with_settings(settings).build()?;
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new().name("manouche-live-server".into()).spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let factory_site = site.clone();
                let server = match crate::http::apply_server_settings!(
                    &server_settings,
                    actix_web::HttpServer::new(move || factory_site.actix_app())
                )
                .workers(1)
                .bind("127.0.0.1:0")
                {
                    Ok(server) => server,
                    Err(error) => {
                        let _ = sender.send(Err(error));
                        return;
                    }
                };
                let addr = server.addrs()[0];
                let server = server.disable_signals().shutdown_timeout(1).run();
                let _ = sender.send(Ok((addr, server.handle())));
                let _ = server.await;
            });
        })?;
        let (addr, handle) = receiver.recv().map_err(|_| crate::Error::other("the live server thread stopped"))??;
        Ok(LiveServer { addr, handle, thread: Some(thread) })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of a path, e.g. `http://127.0.0.1:41234/admin/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; its future only reports completion.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
