//! The harness's view of netsim's network calls (`POST /netsim/v1/calls`, `GET
//! /netsim/v1/calls/{callId}`): a subscriber dialling someone, and what the network then
//! did with the call (its session, state and call-direction decision).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Answer, Suite, read};

impl Suite {
    /// `POST /netsim/v1/calls`: a subscriber dials someone. Returns netsim's answer.
    pub async fn dial_raw(&self, body: Value) -> Answer {
        read(
            self.http
                .post(format!("{}/netsim/v1/calls", self.admin))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A network call from `calling` to `called`; returns its `callId`.
    pub async fn dial(&self, calling: &str, called: &str) -> String {
        let r = self
            .dial_raw(json!({"callingParticipant": calling, "calledParticipant": called}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "netsim dial: {:?}", r.body);
        let id = r.body["callId"].as_str().unwrap_or_default().to_string();
        assert!(
            !id.is_empty(),
            "netsim dial answered no callId: {:?}",
            r.body
        );
        id
    }

    /// `GET /netsim/v1/calls/{callId}`: what the network knows of a call it originated.
    pub async fn network_call(&self, call_id: &str) -> Answer {
        read(
            self.http
                .get(format!("{}/netsim/v1/calls/{call_id}", self.admin))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Polls a network call until `check` accepts it; returns it.
    pub async fn until_network_call(
        &self,
        call_id: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.network_call(call_id).await;
            if r.status == StatusCode::OK && check(&r.body) {
                return r.body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not within 10s: network call {call_id}: {what}; last seen {} {}",
                r.status,
                r.body
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
