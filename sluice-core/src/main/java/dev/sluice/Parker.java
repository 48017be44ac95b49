package dev.sluice;

import java.util.concurrent.locks.LockSupport;

/**
 * How a blocking acquire waits: {@link LockSupport#parkNanos(long)} by default. A seam for tests,
 * which advance a {@link ManualTicker} instead of sleeping. Implementations may return early
 * (spuriously); the caller re-reads its ticker and parks again.
 */
@FunctionalInterface
interface Parker {

  /** The real one. */
  Parker SYSTEM = LockSupport::parkNanos;

  /** Parks the calling thread for up to {@code nanos}, or until interrupted. */
  void park(long nanos);
}
