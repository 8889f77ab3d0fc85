import Prometheus

/// Names and help texts of the SPEC §7 metrics (plus a few of our own), in one place.
enum MetricName {
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static var connections: MetricNameDescriptor { named("gateway_connections", "Sockets connected to each namespace.") }
    static var engineConnections: MetricNameDescriptor { named("gateway_engine_connections", "Engine.IO connections by transport.") }
    static var deflateConnections: MetricNameDescriptor { named("gateway_websocket_deflate_connections", "WebSocket connections that negotiated permessage-deflate.") }
    static var connectionsTotal: MetricNameDescriptor { named("gateway_connections_total", "Namespace connections accepted.") }
    static var connectErrors: MetricNameDescriptor { named("gateway_connect_errors_total", "Namespace connections refused, by CONNECT_ERROR code.") }
    static var messagesReceived: MetricNameDescriptor { named("gateway_messages_received_total", "Client events received.") }
    static var messagesSent: MetricNameDescriptor { named("gateway_messages_sent_total", "Messages written to sockets (a broadcast counts once per recipient).") }
    static var rateLimited: MetricNameDescriptor { named("gateway_rate_limited_total", "Client events refused by the token bucket.") }
    static var subscriptions: MetricNameDescriptor { named("gateway_subscriptions", "Rooms joined through subscribe events.") }
    static var conflated: MetricNameDescriptor { named("gateway_conflated_total", "Market messages replaced by a newer value for a slow socket.") }
    static var deliveryLatency: MetricNameDescriptor { named("gateway_delivery_latency_seconds", "Time from feed receipt to the last socket write on an event loop.") }
    static var slowConsumers: MetricNameDescriptor { named("gateway_slow_consumer_disconnects_total", "Sockets closed because their unsent data passed limits.slowConsumerBytes.") }
    static var malformed: MetricNameDescriptor { named("gateway_malformed_packets_total", "Connections closed for malformed packets or protocol violations.") }
    static var feedMessages: MetricNameDescriptor { named("gateway_feed_messages_total", "Feed messages accepted, by source and type.") }
    static var feedRejected: MetricNameDescriptor { named("gateway_feed_rejected_total", "Feed messages refused, by source and reason.") }
    static var feedGaps: MetricNameDescriptor { named("gateway_feed_gaps_total", "Depth deltas that skipped a sequence number (book resynced by snapshot).") }
    static var feedStaleSymbols: MetricNameDescriptor { named("gateway_feed_stale_symbols", "Symbols whose feed has been silent past feed.staleAfterMs (by symbol; \"learned\" for symbols learned from the feed).") }
    static var feedStale: MetricNameDescriptor { named("gateway_feed_stale_total", "Times a symbol's feed went silent past feed.staleAfterMs (by symbol; \"learned\" for symbols learned from the feed).") }
    static var idempotentRepeats: MetricNameDescriptor { named("gateway_idempotent_repeats_total", "Producer retries recognised and not delivered again: request (Idempotency-Key), event (eventId), trade (tradeId).") }
    static var idempotencyLocal: MetricNameDescriptor { named("gateway_idempotency_local_total", "Idempotency claims decided by this instance's store because Redis was unreachable.") }
    static var jwksRefreshes: MetricNameDescriptor { named("gateway_jwks_refresh_total", "JWKS fetches, by result (ok, error) and cause (start, schedule, unknown_kid).") }
    static var jwksKeys: MetricNameDescriptor { named("gateway_jwks_keys", "Verification keys read from the last good JWKS document.") }
    static var jwksLastSuccess: MetricNameDescriptor { named("gateway_jwks_last_success_timestamp_seconds", "When the JWKS document was last fetched and read successfully (0: never).") }
    static var presenceNotices: MetricNameDescriptor { named("gateway_presence_notices_total", "Presence webhook notices: queued, delivered, retried (an attempt failed), refused (4xx, not retried), dropped (queue full).") }
    static var recovery: MetricNameDescriptor { named("gateway_recovery_total", "Connection state recovery attempts on /user, by outcome.") }
    static var redisUp: MetricNameDescriptor { named("gateway_redis_up", "1 while the Redis connection is up, 0 when it is down or not configured.") }
    static var redisConfigured: MetricNameDescriptor { named("gateway_redis_configured", "1 when REDIS_URL is set (so gateway_redis_up 0 means down, not absent).") }
    static var httpTimeouts: MetricNameDescriptor { named("gateway_http_timeouts_total", "HTTP connections closed for not sending a complete request head in time, by phase (header: a new connection; idle: between requests).") }
    static var busMessages: MetricNameDescriptor { named("gateway_bus_messages_total", "Cluster bus messages: published to Redis, received from other instances, or delivered here only (Redis unreachable).") }
    static var boundRefusals: MetricNameDescriptor { named("gateway_bound_refusals_total", "Requests refused at a documented bound (docs/security.md), by bound.") }
    static var localRateDecisions: MetricNameDescriptor { named("gateway_rate_limit_local_total", "Shared (Redis) rate-limit checks decided by the local bucket instead, by reason (slow, unavailable, busy).") }
    static var residentMemory: MetricNameDescriptor { named("process_resident_memory_bytes", "Resident memory of the gateway process.") }
    static var cpuSeconds: MetricNameDescriptor { named("process_cpu_seconds_total", "User and system CPU time of the gateway process.") }
    static var openFileDescriptors: MetricNameDescriptor { named("process_open_fds", "Open file descriptors of the gateway process.") }

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]
}
