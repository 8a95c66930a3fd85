use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, routing::get};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Semaphore,
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

use super::serve_http;

const DEADLINE: Duration = Duration::from_secs(10);
const REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nhost: test\r\n\r\n";

/// A server whose `/hello` answers at once and whose `/gated` adds a permit to `entered`,
/// then answers once `gate` has one.
async fn server(
    entered: Arc<Semaphore>,
    gate: Arc<Semaphore>,
) -> (TcpListener, SocketAddr, Router, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/gated",
            get(move || async move {
                entered.add_permits(1);
                let _permit = gate.acquire().await.unwrap();
                "gated"
            }),
        );
    (listener, addr, router, CancellationToken::new())
}

fn spawn(listener: TcpListener, router: Router, stop: &CancellationToken) -> JoinHandle<()> {
    let stop = stop.clone();
    tokio::spawn(serve_http(listener, router, stop))
}

/// Lets the server's tasks (on this test's single thread) run what they have to, and the
/// runtime's I/O events reach them.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection after its answer")
        .expect("the connection is closed, not reset");
    String::from_utf8(answer).unwrap()
}

async fn ended(server: JoinHandle<()>) {
    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("the server returns once its connections have ended")
        .unwrap();
}

/// One answer, whole, with `body` (the caller has seen the connection closed after it).
fn assert_answered(answer: &str, body: &str) {
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with(&format!("\r\n\r\n{body}")), "{answer}");
}

#[tokio::test]
async fn a_request_written_after_the_stop_on_a_connection_made_before_it_is_answered() {
    let (listener, addr, router, stop) =
        server(Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(1))).await;
    let served = spawn(listener, router, &stop);
    let mut client = TcpStream::connect(addr).await.unwrap();
    // The server takes the connection and waits for its first bytes; then the stop comes
    // and reaches it; only then is the request written.
    settle().await;
    stop.cancel();
    settle().await;
    client.write_all(REQUEST).await.unwrap();
    assert_answered(&read_to_close(&mut client).await, "hello");
    ended(served).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "a stopped server takes no new connection"
    );
}

#[tokio::test]
async fn a_connection_still_queued_when_the_stop_comes_is_served_not_reset() {
    let (listener, addr, router, stop) =
        server(Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(1))).await;
    // The kernel completes the connection; nothing has accepted it yet when the stop comes.
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    stop.cancel();
    let served = spawn(listener, router, &stop);
    assert_answered(&read_to_close(&mut client).await, "hello");
    ended(served).await;
}

#[tokio::test]
async fn a_request_in_flight_finishes_and_an_idle_connection_is_closed() {
    let (entered, gate) = (Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(0)));
    let (listener, addr, router, stop) = server(entered.clone(), gate.clone()).await;
    let served = spawn(listener, router, &stop);

    // A kept-alive connection, idle after its first answer.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(REQUEST).await.unwrap();
    let mut first = [0u8; 17];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200 OK\r\n");

    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(b"GET /gated HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    // The handler holds the request until the gate opens; the stop comes meanwhile.
    let _in_handler = tokio::time::timeout(DEADLINE, entered.acquire())
        .await
        .expect("the handler has the request")
        .unwrap();
    stop.cancel();
    // The idle connection is closed without another answer.
    let rest = read_to_close(&mut idle).await;
    assert!(rest.ends_with("hello"), "{rest}");
    gate.add_permits(1);
    let answer = read_to_close(&mut busy).await;
    assert_answered(&answer, "gated");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "a request in flight at the stop is told the connection closes: {answer}"
    );
    ended(served).await;
}

#[tokio::test]
async fn a_connection_silent_after_the_stop_is_closed_and_does_not_hold_it_up() {
    let (listener, addr, router, stop) =
        server(Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(1))).await;
    let served = spawn(listener, router, &stop);
    let mut silent = TcpStream::connect(addr).await.unwrap();
    stop.cancel();
    assert_eq!(
        read_to_close(&mut silent).await,
        "",
        "closed without an answer"
    );
    ended(served).await;
}
