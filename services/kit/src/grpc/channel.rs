//! Channels to a service: one URL is dialled lazily as it is (a Kubernetes Service, a load
//! balancer, the embedded suite); a comma-separated list of URLs is balanced on the client
//! side, each replica kept in rotation only while its gRPC health service says SERVING. A
//! replica that stops (SIGTERM: it reports NOT_SERVING first, then drains) or dies (its
//! health stream breaks) leaves the rotation at once, and comes back when it answers again.

use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tonic::transport::{Channel, Endpoint, channel::Change};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client};

/// How long to wait before asking a replica that did not answer again.
const RETRY: Duration = Duration::from_millis(250);

/// A channel to the service at `urls` (one URL, or several separated by commas).
pub fn connect(urls: &str, connect_timeout: Duration) -> Result<Channel, tonic::transport::Error> {
    let endpoint = |url: &str| {
        Endpoint::from_shared(url.to_owned()).map(|e| e.connect_timeout(connect_timeout))
    };
    let urls = split(urls);
    let [url] = urls.as_slice() else {
        let endpoints = urls
            .iter()
            .map(|u| endpoint(u))
            .collect::<Result<Vec<_>, _>>()?;
        let (channel, changes) = Channel::balance_channel(endpoints.len().max(1) * 4);
        for (key, endpoint) in endpoints.into_iter().enumerate() {
            tokio::spawn(watch(key, endpoint, changes.clone()));
        }
        return Ok(channel);
    };
    Ok(endpoint(url)?.connect_lazy())
}

/// The URLs of a list, trimmed, without empty entries; a lone empty URL stays (and fails
/// to parse where it is used).
fn split(urls: &str) -> Vec<&str> {
    let list: Vec<&str> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if list.is_empty() { vec![urls] } else { list }
}

/// Keeps replica `key` in the balanced channel while it reports SERVING; ends when the
/// channel is gone.
async fn watch(key: usize, endpoint: Endpoint, changes: Sender<Change<usize, Endpoint>>) {
    let mut in_rotation = false;
    loop {
        let followed = tokio::select! {
            _ = changes.closed() => return,
            followed = follow(&endpoint, key, &changes, &mut in_rotation) => followed,
        };
        if followed.is_err() {
            return;
        }
        if in_rotation {
            in_rotation = false;
            tracing::warn!(replica = %endpoint.uri(), "gRPC replica left the rotation");
            if changes.send(Change::Remove(key)).await.is_err() {
                return;
            }
        }
        tokio::select! {
            _ = changes.closed() => return,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}

/// Follows one health stream of the replica while it reports SERVING, inserting the
/// replica into the rotation; returns when the stream breaks or reports anything else (the
/// caller then removes the replica). Err: the channel is gone.
async fn follow(
    endpoint: &Endpoint,
    key: usize,
    changes: &Sender<Change<usize, Endpoint>>,
    in_rotation: &mut bool,
) -> Result<(), ()> {
    let Ok(connection) = endpoint.connect().await else {
        return Ok(());
    };
    let mut health = health_client::HealthClient::new(connection);
    let Ok(stream) = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
    else {
        return Ok(());
    };
    let mut stream = stream.into_inner();
    while let Ok(Some(reply)) = stream.message().await {
        if reply.status() != ServingStatus::Serving {
            // Let go of the stream: a server draining for shutdown waits for its streams to
            // end. The caller asks again shortly, and finds the replica back or gone.
            tracing::info!(replica = %endpoint.uri(), "gRPC replica is not serving");
            return Ok(());
        }
        if !*in_rotation {
            *in_rotation = true;
            tracing::info!(replica = %endpoint.uri(), "gRPC replica joined the rotation");
            changes
                .send(Change::Insert(key, endpoint.clone()))
                .await
                .map_err(|_| ())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn lists_are_split_and_trimmed() {
        assert_eq!(split("http://a:1"), vec!["http://a:1"]);
        assert_eq!(
            split(" http://a:1 , http://b:2,,"),
            vec!["http://a:1", "http://b:2"]
        );
        assert_eq!(split(""), vec![""]);
    }
}
