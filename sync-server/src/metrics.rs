//! The server's Prometheus metrics: requests, latency, error codes, uploaded records and IoT
//! events. The HTTP layer (`observe`) counts requests and serves `/metrics`; the domain counts
//! what it did. Nothing here knows HTTP, so any layer may count.
//!
//! Labels are bounded: a route is the route table's pattern (`/api/v1/records/{id}`), never
//! the path a client sent, and an error is its code, so no client can grow the metric set.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ErrorLabels {
    route: String,
    code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UploadLabels {
    outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct IotLabels {
    kind: String,
    outcome: String,
}

/// The server's metrics, shared by every handler through `AppState`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    errors: Family<ErrorLabels, Counter>,
    uploads: Family<UploadLabels, Counter>,
    iot_events: Family<IotLabels, Counter>,
}

/// Latency buckets in seconds: an upload takes a few milliseconds, an analysis tens, a
/// login (Argon2id) about half a second, a city's export a few seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("anjian");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(LATENCY_BUCKETS)) as fn() -> Histogram,
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        let uploads = Family::<UploadLabels, Counter>::default();
        let iot_events = Family::<IotLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route",
            latency.clone(),
        );
        registry.register(
            "http_errors",
            "Requests refused or failed, by route and error code",
            errors.clone(),
        );
        registry.register(
            "sync_records",
            "Records uploaded in sync requests, by outcome (accepted, locked, rejected)",
            uploads.clone(),
        );
        registry.register(
            "iot_events",
            "IoT events received, by device kind and outcome (stored, duplicate, conflict); refused batches count under http_errors",
            iot_events.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            errors,
            uploads,
            iot_events,
        }
    }
}

impl Metrics {
    /// Counts one uploaded record's outcome.
    pub fn record_uploaded(&self, outcome: &str) {
        self.uploads
            .get_or_create(&UploadLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts `count` IoT events of a device kind with one outcome.
    pub fn iot_events(&self, kind: &str, outcome: &str, count: u64) {
        if count > 0 {
            self.iot_events
                .get_or_create(&IotLabels {
                    kind: kind.to_string(),
                    outcome: outcome.to_string(),
                })
                .inc_by(count);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Counts one answered request and its latency, and its error code if it was refused.
    pub fn request_answered(
        &self,
        method: &str,
        route: &str,
        status: u16,
        error_code: Option<&str>,
        seconds: f64,
    ) {
        let route = route.to_string();
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(seconds);
        if let Some(code) = error_code {
            self.errors
                .get_or_create(&ErrorLabels {
                    route,
                    code: code.to_string(),
                })
                .inc();
        }
    }
}

/// The shared handle kept in `AppState`.
pub type SharedMetrics = Arc<Metrics>;
