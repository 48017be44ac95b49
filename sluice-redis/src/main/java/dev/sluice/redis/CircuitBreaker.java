package dev.sluice.redis;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stops a dead Redis from costing a deadline per request. Closed: every call goes to Redis, and
 * {@code threshold} consecutive failures open it. Open: calls fail at once, without touching
 * Redis, for {@code openNanos}. Then one call is let through as a probe (half-open; the others
 * still fail at once): its success closes the breaker, its failure opens it again.
 *
 * <p>Lock-free; the counts are approximate under races (two failures may both see the same
 * count), which only shifts the opening by a call. Time is {@link System#nanoTime()}: the
 * breaker measures how long Redis has been failing here, not anybody's limits.
 */
final class CircuitBreaker {

  private static final int CLOSED = 0;
  private static final int OPEN = 1;
  private static final int HALF_OPEN = 2;

  private final int threshold;
  private final long openNanos;
  private final AtomicInteger state = new AtomicInteger(CLOSED);
  private final AtomicInteger failures = new AtomicInteger();
  private volatile long openedAt;

  CircuitBreaker(int threshold, long openNanos) {
    this.threshold = threshold;
    this.openNanos = openNanos;
  }

  /** Whether a call may go to Redis now; when half-open, true for one caller only (the probe). */
  boolean allow() {
    int s = state.get();
    if (s == CLOSED) {
      return true;
    }
    if (s == OPEN && System.nanoTime() - openedAt >= openNanos) {
      return state.compareAndSet(OPEN, HALF_OPEN);
    }
    return false;
  }

  void onSuccess() {
    if (failures.get() != 0) {
      failures.set(0);
    }
    if (state.get() != CLOSED) {
      state.set(CLOSED);
    }
  }

  void onFailure() {
    int s = state.get();
    if (s == HALF_OPEN) {
      open(HALF_OPEN);
    } else if (s == CLOSED && failures.incrementAndGet() >= threshold) {
      open(CLOSED);
    }
  }

  private void open(int from) {
    openedAt = System.nanoTime();
    if (state.compareAndSet(from, OPEN)) {
      failures.set(0);
    }
  }

  /**
   * The state now. OPEN stays OPEN after {@code openNanos} until a call takes the probe; HALF_OPEN
   * while that probe is with Redis.
   */
  RedisStore.BreakerState state() {
    return switch (state.get()) {
      case CLOSED -> RedisStore.BreakerState.CLOSED;
      case OPEN -> RedisStore.BreakerState.OPEN;
      default -> RedisStore.BreakerState.HALF_OPEN;
    };
  }

  /** Whether calls currently fail without touching Redis. */
  boolean isOpen() {
    return state.get() != CLOSED;
  }
}
