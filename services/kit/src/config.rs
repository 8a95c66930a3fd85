//! Suite configuration: compiled-in defaults, then an optional TOML file, then `PARLAY_…`
//! environment variables (`PARLAY_HTTP_ADDR` → `http_addr`, `PARLAY_NOTIFY__MAX_AGE_SECS` →
//! `notify.max_age_secs`). Validated once at start: a bad value stops the process with a
//! message naming the setting, before anything binds.

use std::{net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};

/// Every setting of the suite. Each service reads the parts it needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the gateway's ParlayREST HTTP listener.
    pub http_addr: SocketAddr,
    /// Address of the admin listener: `/livez`, `/readyz`, `/metrics` (and netsim's control API).
    pub admin_addr: SocketAddr,
    /// Address a service's gRPC listener binds in distributed mode.
    pub grpc_addr: SocketAddr,
    /// Directory for SQLite files and stored media in embedded mode.
    pub data_dir: PathBuf,
    /// What `resourceURL`s and `Location` headers start with; default `http://` + `http_addr`.
    pub public_url: Option<String>,
    /// The `{apiVersion}` path segment.
    pub api_version: String,
    /// Database of the service this process runs (distributed mode). In embedded mode each
    /// service gets a SQLite file in `data_dir` when this is unset.
    pub database_url: Option<String>,
    /// NATS server URL. Unset: the in-process bus (embedded mode only).
    pub nats_url: Option<String>,
    /// Prefix of every bus subject and JetStream stream name; isolates suites sharing a NATS.
    pub bus_prefix: String,
    /// Replicas of each JetStream stream, when this process creates it (1 to 5; at most the
    /// number of NATS servers). An existing stream keeps its replicas.
    pub bus_stream_replicas: usize,
    /// Seconds after which a gRPC server closes a client's connection (GOAWAY; calls in
    /// flight finish), so clients reconnect and spread over new replicas. 0: never.
    pub grpc_max_connection_age_secs: u64,
    /// Serve gRPC server reflection (grpc.reflection.v1) on each gRPC listener.
    pub grpc_reflection: bool,
    /// At shutdown, milliseconds a gRPC server keeps serving after it reports NOT_SERVING
    /// on its health service, so clients balancing over replicas stop sending to it first.
    pub grpc_drain_ms: u64,
    /// gRPC endpoint of the call service, as the gateway dials it (distributed mode).
    pub call_grpc_url: String,
    /// gRPC endpoint of the messaging service, as the gateway dials it (distributed mode).
    pub messaging_grpc_url: String,
    /// gRPC endpoint of the presence service, as the gateway and the address-list service
    /// dial it (distributed mode).
    pub presence_grpc_url: String,
    /// gRPC endpoint of the address-list service, as the gateway dials it (distributed mode).
    pub addresslist_grpc_url: String,
    /// Logging filter (tracing `EnvFilter` syntax); `RUST_LOG` wins when set.
    pub log: String,
    pub gateway: GatewayConfig,
    pub call: CallConfig,
    pub messaging: MessagingConfig,
    pub presence: PresenceConfig,
    pub addresslist: AddressListConfig,
    pub notify: NotifyConfig,
    pub netsim: NetsimConfig,
    /// `PARLAY_…` environment variables that name no setting (reported at start).
    #[serde(skip)]
    pub ignored_env: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Largest request body accepted; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Seconds a gRPC call to a service may take before the gateway answers 503.
    pub upstream_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallConfig {
    /// Most participants one call session may have (POL0003 beyond).
    pub max_participants: usize,
    /// Seconds an ended call session stays readable before it is purged (then 404).
    pub retention_secs: u64,
    /// Seconds a called participant may stay unanswered before the leg ends as NoAnswer
    /// (bounds a session even when the network never reports back).
    pub no_answer_timeout_secs: u64,
    /// Milliseconds the network waits for an application's call-direction decision when its
    /// subscription names no `responseTimeout`; then the default action applies.
    pub decision_timeout_ms: u64,
    /// Longest `responseTimeout` a call-direction subscription may ask for, in milliseconds.
    pub max_decision_timeout_ms: u64,
    /// Longest lifetime of a call-notification subscription in seconds; also the lifetime
    /// granted when the request names no `duration`.
    pub max_subscription_secs: u64,
    /// Media types accepted for audio to play and prompts (POL0011 for others); a request
    /// without `mediaType` is accepted.
    pub audio_media_types: Vec<String>,
    /// Longest recording a play-and-record interaction may ask for, in seconds. A recording
    /// crosses the bus whole: 30 s of 8 kHz 16-bit WAV is about 480 KB, within NATS's
    /// default 1 MiB message limit.
    pub max_recording_secs: u32,
    /// Seconds a recording stays readable at its URL, then it is deleted.
    pub recording_retention_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagingConfig {
    /// Most recipients of one outbound request (POL0003 beyond).
    pub max_addresses: usize,
    /// Most SMS segments one text may take (SVC0280 beyond): 153 GSM 7-bit characters or 67
    /// UCS-2 code units each once a text needs more than one.
    pub max_segments: u32,
    /// Largest total size of one MMS's attachments, in bytes: an outbound request above it
    /// is refused (413 at the gateway, SVC0002 ["attachments"] at the service), an inbound
    /// message above it is not accepted. A message crosses the bus whole: keep it within
    /// NATS's message limit (1 MiB by default).
    pub max_attachment_bytes: usize,
    /// Where inbound attachments are stored as files. Unset: `attachments` in `data_dir`
    /// (embedded mode). In distributed mode point it at a volume every messaging replica
    /// mounts.
    pub attachments_dir: Option<PathBuf>,
    /// Seconds an inbound message stays readable if nobody deletes it; then it is purged
    /// with its attachments.
    pub inbound_retention_secs: u64,
    /// Seconds an outbound request and its delivery statuses stay readable; then 404.
    pub request_retention_secs: u64,
    /// Messages in one inbound batch when the request names no `maxBatchSize`; larger
    /// values are capped at `max_batch_size`.
    pub default_batch_size: u32,
    pub max_batch_size: u32,
    /// Longest lifetime of an inbound subscription in seconds; also the lifetime granted
    /// when the request names no `duration`.
    pub max_subscription_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceConfig {
    /// Shortest time between two presence notifications about one presentity to one
    /// subscription, in milliseconds (RFC 3856 rate limit). Changes in between are
    /// coalesced into one notification carrying the latest state.
    pub notify_interval_ms: u64,
    /// Most notes in a `noteList` (POL0260 beyond).
    pub max_notes: usize,
    /// Most links in a `linkList` (POL0260 beyond).
    pub max_links: usize,
    /// Largest content file (a status icon's image), in bytes (413 beyond).
    pub max_content_bytes: usize,
    /// Most content files of one user (POL0260 beyond).
    pub max_content_files: usize,
    /// Most live temporary presence sources of one user (POL0260 beyond).
    pub max_sources: usize,
    /// Longest lifetime of a temporary presence source in seconds; also the lifetime
    /// granted when the request names no `duration`.
    pub max_source_secs: u64,
    /// Longest lifetime of a watchers or presence-list subscription in seconds; also the
    /// lifetime granted when the request names no `duration`.
    pub max_subscription_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddressListConfig {
    /// Most members of one contact list (POL0210 beyond).
    pub max_members: u64,
    /// Most contact lists of one user, `rcs` and `rcs_revoke` included (POL0214 beyond).
    pub max_lists: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Seconds after its creation a notification is still retried; then it is abandoned.
    pub max_age_secs: u64,
    /// First retry delay in milliseconds; doubles each attempt, with jitter.
    pub initial_backoff_ms: u64,
    /// Longest delay between two attempts, in milliseconds.
    pub max_backoff_ms: u64,
    /// Timeout of one delivery attempt (connect + answer), in milliseconds.
    pub attempt_timeout_ms: u64,
    /// Seconds a dispatcher holds a claimed job before another may take it over.
    pub lease_secs: u64,
    /// Deliveries in flight at once per dispatcher.
    pub concurrency: usize,
    /// Send the W3C `traceparent` header on webhook POSTs.
    pub send_traceparent: bool,
    /// Seconds a delivered or abandoned notification and its attempts are kept, then deleted.
    pub retention_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetsimConfig {
    /// Milliseconds before a participant answers when no rule matches its address.
    pub default_call_delay_ms: u64,
    /// Milliseconds a play (or an interaction's prompt) lasts when no rule names `playMs`.
    pub default_play_ms: u64,
    /// Milliseconds a participant speaks into a recording when no rule names `recording`.
    pub default_recording_ms: u64,
    /// Milliseconds from a submit to its `DeliveredToTerminal` receipt when no rule names
    /// `delivery` (`DeliveredToNetwork` is reported at once).
    pub default_delivery_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http_addr: ([127, 0, 0, 1], 8080).into(),
            admin_addr: ([127, 0, 0, 1], 9090).into(),
            grpc_addr: ([127, 0, 0, 1], 50051).into(),
            data_dir: PathBuf::from("data"),
            public_url: None,
            api_version: "1".into(),
            database_url: None,
            nats_url: None,
            bus_prefix: "parlay".into(),
            bus_stream_replicas: 1,
            grpc_max_connection_age_secs: 0,
            grpc_reflection: false,
            grpc_drain_ms: 1000,
            call_grpc_url: "http://127.0.0.1:50051".into(),
            messaging_grpc_url: "http://127.0.0.1:50052".into(),
            presence_grpc_url: "http://127.0.0.1:50053".into(),
            addresslist_grpc_url: "http://127.0.0.1:50054".into(),
            log: "info".into(),
            gateway: GatewayConfig::default(),
            call: CallConfig::default(),
            messaging: MessagingConfig::default(),
            presence: PresenceConfig::default(),
            addresslist: AddressListConfig::default(),
            notify: NotifyConfig::default(),
            netsim: NetsimConfig::default(),
            ignored_env: Vec::new(),
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            upstream_timeout_secs: 10,
        }
    }
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            max_participants: 10,
            retention_secs: 3600,
            no_answer_timeout_secs: 120,
            decision_timeout_ms: 5_000,
            max_decision_timeout_ms: 60_000,
            max_subscription_secs: 30 * 24 * 3600,
            audio_media_types: [
                "audio/wav",
                "audio/x-wav",
                "audio/wave",
                "audio/mpeg",
                "audio/mp3",
                "audio/amr",
                "audio/ogg",
            ]
            .map(String::from)
            .to_vec(),
            max_recording_secs: 30,
            recording_retention_secs: 7 * 24 * 3600,
        }
    }
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            max_addresses: 100,
            max_segments: 10,
            max_attachment_bytes: 768 * 1024,
            attachments_dir: None,
            inbound_retention_secs: 7 * 24 * 3600,
            request_retention_secs: 7 * 24 * 3600,
            default_batch_size: 10,
            max_batch_size: 100,
            max_subscription_secs: 30 * 24 * 3600,
        }
    }
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            notify_interval_ms: 5_000,
            max_notes: 10,
            max_links: 20,
            max_content_bytes: 256 * 1024,
            max_content_files: 10,
            max_sources: 10,
            max_source_secs: 24 * 3600,
            max_subscription_secs: 30 * 24 * 3600,
        }
    }
}

impl Default for AddressListConfig {
    fn default() -> Self {
        Self {
            max_members: 1_000,
            max_lists: 100,
        }
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            max_age_secs: 24 * 3600,
            initial_backoff_ms: 500,
            max_backoff_ms: 60_000,
            attempt_timeout_ms: 5_000,
            lease_secs: 30,
            concurrency: 256,
            send_traceparent: true,
            retention_secs: 7 * 24 * 3600,
        }
    }
}

impl Default for NetsimConfig {
    fn default() -> Self {
        Self {
            default_call_delay_ms: 50,
            default_play_ms: 200,
            default_recording_ms: 1_000,
            default_delivery_ms: 50,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {source}")]
    Toml {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` (if any), then the `PARLAY_…` variables of `env`.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
                path: path.into(),
                source,
            })?;
            let over: toml::Table = text.parse().map_err(|source| ConfigError::Toml {
                path: path.into(),
                source,
            })?;
            merge(&mut table, over);
        }
        let mut ignored_env = Vec::new();
        for (key, value) in env {
            let Some(name) = key.strip_prefix("PARLAY_") else {
                continue;
            };
            if name == "CONFIG" {
                continue;
            }
            let path: Vec<String> = name.split("__").map(str::to_ascii_lowercase).collect();
            // The value takes the type of the setting it overrides, so PARLAY_API_VERSION=2
            // stays a string. Variables naming no setting (Kubernetes injects
            // PARLAY_GATEWAY_SERVICE_HOST and the like for a Service named parlay-gateway)
            // are reported, not fatal; a typo in a file still is.
            match typed(&table, &path, &value) {
                Some(v) => set_path(&mut table, &path, v),
                None => ignored_env.push(key),
            }
        }
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string().trim().to_string()))?;
        config.validate()?;
        config.ignored_env = ignored_env;
        Ok(config)
    }

    /// Loads from the process environment, with the file named by `PARLAY_CONFIG` if set.
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = std::env::var_os("PARLAY_CONFIG").map(PathBuf::from);
        Self::load(file.as_deref(), std::env::vars())
    }

    /// Checks every setting; a bad one is named in the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| Err(ConfigError::Invalid(what.to_string()));
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return bad("public_url must start with http:// or https://");
        }
        if self.api_version.is_empty() || self.api_version.contains('/') {
            return bad("api_version must be one non-empty path segment");
        }
        if !self
            .bus_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return bad("bus_prefix may hold only letters, digits, '_' and '-'");
        }
        if !(1..=5).contains(&self.bus_stream_replicas) {
            return bad("bus_stream_replicas must be between 1 and 5");
        }
        if self.call.max_participants == 0 {
            return bad("call.max_participants must be at least 1");
        }
        if self.call.no_answer_timeout_secs == 0 {
            return bad("call.no_answer_timeout_secs must be at least 1");
        }
        if self.call.decision_timeout_ms == 0
            || self.call.decision_timeout_ms > self.call.max_decision_timeout_ms
        {
            return bad(
                "call.decision_timeout_ms must be between 1 and call.max_decision_timeout_ms",
            );
        }
        if self.call.max_subscription_secs == 0 || self.call.max_recording_secs == 0 {
            return bad("call.max_subscription_secs and call.max_recording_secs must be positive");
        }
        if self.messaging.max_addresses == 0
            || self.messaging.max_segments == 0
            || self.messaging.max_subscription_secs == 0
        {
            return bad("messaging.max_addresses, messaging.max_segments and \
                 messaging.max_subscription_secs must be positive");
        }
        if self.messaging.default_batch_size == 0
            || self.messaging.default_batch_size > self.messaging.max_batch_size
        {
            return bad(
                "messaging.default_batch_size must be between 1 and messaging.max_batch_size",
            );
        }
        if self.presence.max_notes == 0
            || self.presence.max_links == 0
            || self.presence.max_subscription_secs == 0
            || self.presence.max_sources == 0
            || self.presence.max_content_bytes == 0
            || self.presence.max_content_files == 0
            || self.presence.max_source_secs == 0
        {
            return bad(
                "presence.max_notes, presence.max_links, presence.max_sources, \
                 presence.max_source_secs and presence.max_subscription_secs must be positive",
            );
        }
        if self.addresslist.max_members == 0 || self.addresslist.max_lists < 2 {
            return bad(
                "addresslist.max_members must be positive and addresslist.max_lists \
                 at least 2 (rcs and rcs_revoke)",
            );
        }
        if self.notify.concurrency == 0 || self.notify.initial_backoff_ms == 0 {
            return bad("notify.concurrency and notify.initial_backoff_ms must be positive");
        }
        if self.gateway.max_body_bytes < 1024 {
            return bad("gateway.max_body_bytes must be at least 1024");
        }
        Ok(())
    }

    /// The public base URL, without a trailing slash.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.http_addr),
        }
    }

    /// The API root every `resourceURL` starts with: `{public}/{apiVersion}`.
    pub fn api_root(&self) -> String {
        format!("{}/{}", self.public_base(), self.api_version)
    }

    /// Where the messaging service keeps inbound attachments.
    pub fn attachments_dir(&self) -> PathBuf {
        self.messaging
            .attachments_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("attachments"))
    }
}

/// Settings with no default (absent from the defaults table); all strings.
const OPTIONAL_STRINGS: [&str; 4] = [
    "public_url",
    "database_url",
    "nats_url",
    "messaging.attachments_dir",
];

/// An environment value typed like the setting at `path`; None when no setting is there.
/// A value that does not parse as that type stays a string, so deserialising names it.
fn typed(table: &toml::Table, path: &[String], raw: &str) -> Option<toml::Value> {
    let string = || toml::Value::String(raw.to_string());
    let current = match path {
        _ if OPTIONAL_STRINGS.contains(&path.join(".").as_str()) => return Some(string()),
        [key] => table.get(key)?,
        [section, key] => table.get(section)?.as_table()?.get(key)?,
        _ => return None,
    };
    Some(match current {
        toml::Value::Integer(_) => raw
            .parse()
            .map(toml::Value::Integer)
            .unwrap_or_else(|_| string()),
        toml::Value::Boolean(_) => raw
            .parse()
            .map(toml::Value::Boolean)
            .unwrap_or_else(|_| string()),
        toml::Value::Table(_) => return None,
        // A list of strings: comma-separated.
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| toml::Value::String(v.to_string()))
                .collect(),
        ),
        _ => string(),
    })
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [head, rest @ ..] => {
            let entry = table
                .entry(head.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            if let toml::Value::Table(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_then_env() {
        let c = Config::load(
            None,
            env(&[
                ("PARLAY_HTTP_ADDR", "127.0.0.1:1234"),
                ("PARLAY_NOTIFY__MAX_AGE_SECS", "60"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.http_addr.port(), 1234);
        assert_eq!(c.notify.max_age_secs, 60);
        assert_eq!(c.api_root(), "http://127.0.0.1:1234/1");
    }

    #[test]
    fn env_values_take_the_type_of_their_setting_and_strangers_are_reported() {
        let c = Config::load(
            None,
            env(&[
                ("PARLAY_API_VERSION", "2"),
                ("PARLAY_BUS_PREFIX", "42"),
                ("PARLAY_NOTIFY__SEND_TRACEPARENT", "false"),
                ("PARLAY_NATS_URL", "nats://127.0.0.1:4222"),
                ("PARLAY_GATEWAY_SERVICE_HOST", "10.0.0.1"),
                ("PARLAY_GATEWAY__NOPE", "1"),
                ("PARLAY_CALL__AUDIO_MEDIA_TYPES", "audio/wav, audio/mpeg,"),
            ]),
        )
        .unwrap();
        assert_eq!(c.call.audio_media_types, ["audio/wav", "audio/mpeg"]);
        assert_eq!(c.api_version, "2");
        assert_eq!(c.bus_prefix, "42");
        assert!(!c.notify.send_traceparent);
        assert_eq!(c.nats_url.as_deref(), Some("nats://127.0.0.1:4222"));
        assert_eq!(
            c.ignored_env,
            ["PARLAY_GATEWAY_SERVICE_HOST", "PARLAY_GATEWAY__NOPE"]
        );
    }

    #[test]
    fn a_file_with_an_unknown_key_is_refused() {
        let path = std::env::temp_dir().join(crate::ids::new_id("parlay-config-"));
        std::fs::write(&path, "htp_addr = \"127.0.0.1:1\"\n").unwrap();
        let err = Config::load(Some(&path), Vec::new()).unwrap_err();
        assert!(err.to_string().contains("htp_addr"), "{err}");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn the_documented_defaults_are_the_defaults() {
        let documented: Config = toml::from_str(include_str!("../config.default.toml")).unwrap();
        assert_eq!(
            toml::Table::try_from(&documented).unwrap(),
            toml::Table::try_from(Config::default()).unwrap()
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_setting_named() {
        let err = Config::load(None, env(&[("PARLAY_HTTP_ADDR", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("socket address"), "{err}");
        let err =
            Config::load(None, env(&[("PARLAY_CALL__MAX_PARTICIPANTS", "many")])).unwrap_err();
        assert!(err.to_string().contains("max_participants"), "{err}");
        let err = Config::load(None, env(&[("PARLAY_PUBLIC_URL", "ftp://x")])).unwrap_err();
        assert!(err.to_string().contains("public_url"), "{err}");
        for replicas in ["0", "6"] {
            let err = Config::load(None, env(&[("PARLAY_BUS_STREAM_REPLICAS", replicas)]))
                .and_then(|c| c.validate().map(|()| c))
                .unwrap_err();
            assert!(err.to_string().contains("bus_stream_replicas"), "{err}");
        }
    }

    #[test]
    fn the_operators_grpc_and_bus_settings_are_read_from_the_environment() {
        let c = Config::load(
            None,
            env(&[
                ("PARLAY_BUS_STREAM_REPLICAS", "3"),
                ("PARLAY_GRPC_MAX_CONNECTION_AGE_SECS", "30"),
                ("PARLAY_GRPC_REFLECTION", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(c.bus_stream_replicas, 3);
        assert_eq!(c.grpc_max_connection_age_secs, 30);
        assert!(c.grpc_reflection);
        assert!(c.ignored_env.is_empty(), "{:?}", c.ignored_env);
    }
}
