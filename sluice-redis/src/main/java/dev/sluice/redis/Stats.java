package dev.sluice.redis;

import java.util.concurrent.atomic.AtomicLong;

/** What one store has done, counted as it happens (for tests and diagnostics). */
final class Stats {

  /** Commands sent: {@code EVALSHA}s, and the {@code EVAL}s after {@code NOSCRIPT}. */
  final AtomicLong roundTrips = new AtomicLong();
  /** Refusals answered by the deny cache, without a round trip. */
  final AtomicLong cacheHits = new AtomicLong();
  /** {@code EVAL}s sent after a {@code NOSCRIPT}. */
  final AtomicLong reloads = new AtomicLong();
  /** Calls that failed, for any reason (the breaker, no connection, a deadline, an error). */
  final AtomicLong failures = new AtomicLong();
  /** Calls that missed their deadline after being sent: Redis may or may not have run them. */
  final AtomicLong timeouts = new AtomicLong();
  /** Calls that failed with an error from Redis or the connection (no deadline, no breaker). */
  final AtomicLong errors = new AtomicLong();
  /** Decisions served from this node's leases, without a round trip. */
  final AtomicLong leaseHits = new AtomicLong();
  /** Leases Redis granted this node. */
  final AtomicLong leasesGranted = new AtomicLong();
  /** Leases this node gave back (sent; a give-back that fails leaves the lease to expire). */
  final AtomicLong leaseReturns = new AtomicLong();
  /** Times {@link StateWatch} found that Redis had lost the namespace's data. */
  final AtomicLong stateLost = new AtomicLong();
}
