//! The listening half every stateful HTTP double shares: a tiny_http server on a random port
//! of 127.0.0.1 that serves each request on a thread of its own, until the double is dropped.
//!
//! One thread per request because a delayed request must not hold up the others, and racing
//! clients must really interleave; a double keeps each request's state change under one lock,
//! so it is atomic, as a real service's is.

use std::sync::Arc;
use std::thread::JoinHandle;

pub struct Listener {
    port: u16,
    server: Arc<tiny_http::Server>,
    worker: Option<JoinHandle<()>>,
}

impl Listener {
    /// Binds a random port of 127.0.0.1 for the double named `what` (in the panic message).
    /// Nothing is answered before [`Listener::serve`].
    pub fn bind(what: &str) -> Listener {
        let server = Arc::new(
            tiny_http::Server::http("127.0.0.1:0")
                .unwrap_or_else(|e| panic!("bind the {what} double on 127.0.0.1: {e}")),
        );
        let port = server
            .server_addr()
            .to_ip()
            .expect("the double listens on an IP address")
            .port();
        Listener {
            port,
            server,
            worker: None,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Answers every request with `serve`, each on its own thread.
    pub fn serve(mut self, serve: impl Fn(tiny_http::Request) + Send + Sync + 'static) -> Self {
        let server = Arc::clone(&self.server);
        let serve = Arc::new(serve);
        self.worker = Some(std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                let serve = Arc::clone(&serve);
                std::thread::spawn(move || serve(request));
            }
        }));
        self
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
