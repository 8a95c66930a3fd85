//! The HTTP/1.1 server of the gateway and the admin endpoints, with a graceful stop that
//! answers every request a client has already sent.
//!
//! On its shutdown signal, `axum::serve` (like hyper's own graceful shutdown) closes at once
//! every connection that has not sent anything yet. A client that connected just before
//! SIGTERM, and wrote its request just after, got its connection closed with no answer.
//! Here such a connection is first given [`FIRST_REQUEST_GRACE`] to send its request, which
//! is answered (with `Connection: close`); and the connections the kernel had already
//! completed when the signal came (still in the listener's accept queue) are taken and
//! served before the listener closes, rather than reset by its closing.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::Notify,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;

/// How long, after the stop, a connection that has not sent a request yet may take to send
/// one. A client that connected just before the stop gets its answer; one that connected
/// and stays silent does not hold the stop up. (A kept-alive connection that has already
/// had its answers and is idle is closed at once.)
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(2);

/// How long to wait before accepting again after the listener failed for a reason of the
/// process's own (out of file descriptors), as hyper's and axum's servers do.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown`; then takes no new connection, answers the
/// requests already sent and closes each connection after its answer (an idle one at once),
/// and returns once every connection has ended.
pub async fn serve_http(listener: TcpListener, router: axum::Router, shutdown: CancellationToken) {
    let builder = http1::Builder::new();
    let connections = TaskTracker::new();
    let serve = |stream: TcpStream, peer: SocketAddr| {
        let _ = stream.set_nodelay(true);
        // A permit once the connection has been asked something (kept until the stop).
        let asked = Arc::new(Notify::new());
        let service = {
            let (router, asked) = (router.clone(), asked.clone());
            service_fn(move |request: http::Request<Incoming>| {
                asked.notify_one();
                router.clone().oneshot(request)
            })
        };
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let stop = shutdown.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                () = stop.cancelled() => {
                    // Asked to stop, hyper closes at once a connection that has shown no
                    // bytes yet: one not asked anything yet first gets the grace to ask.
                    let asking = tokio::time::timeout(FIRST_REQUEST_GRACE, asked.notified());
                    tokio::select! {
                        served = connection.as_mut() => served,
                        _ = asking => {
                            connection.as_mut().graceful_shutdown();
                            connection.await
                        }
                    }
                }
            };
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "HTTP connection ended with an error");
            }
        });
    };

    loop {
        tokio::select! {
            // The stop first: what the queue holds then is taken below.
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => serve(stream, peer),
                Err(error) => on_accept_error(&error).await,
            },
        }
    }
    for (stream, peer) in accept_queue(listener) {
        serve(stream, peer);
    }
    connections.close();
    connections.wait().await;
}

/// Takes the connections waiting in the listener's accept queue, without waiting for more,
/// and closes the listener. Asked of the socket itself, not of the runtime's readiness
/// events, which may not have caught up with the last connections yet.
fn accept_queue(listener: TcpListener) -> Vec<(TcpStream, SocketAddr)> {
    let listener = match listener
        .into_std()
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
    {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%error, "could not take the queued HTTP connections");
            return Vec::new();
        }
    };
    let mut queued = Vec::new();
    loop {
        match listener.accept() {
            Ok((stream, peer)) => match stream
                .set_nonblocking(true)
                .and_then(|()| TcpStream::from_std(stream))
            {
                Ok(stream) => queued.push((stream, peer)),
                Err(error) => {
                    tracing::warn!(%peer, %error, "could not take a queued HTTP connection")
                }
            },
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return queued,
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                tracing::warn!(%error, "could not take the last queued HTTP connections");
                return queued;
            }
        }
    }
}

/// An accept that failed: a connection that broke before it was taken is skipped; anything
/// else (out of file descriptors) is logged and waited out.
async fn on_accept_error(error: &io::Error) {
    if is_connection_error(error) {
        return;
    }
    tracing::error!(%error, "accepting an HTTP connection failed");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests;
