package dev.sluice.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * The permits that charge-on rules took for one admitted request, settled once its response's
 * final status is known: kept by the rules whose statuses match, given back by the others.
 */
final class Charges {

  private static final AtomicIntegerFieldUpdater<Charges> SETTLED =
      AtomicIntegerFieldUpdater.newUpdater(Charges.class, "settled");

  private final HttpLimiter limiter;
  private final long start;
  private final Outcome[] outcomes;
  private volatile int settled;

  /**
   * @param start the HTTP limiter's ticker before the permits were taken
   * @param outcomes the charge-on rules' outcomes that hold permits
   */
  Charges(HttpLimiter limiter, long start, Outcome[] outcomes) {
    this.limiter = limiter;
    this.start = start;
    this.outcomes = outcomes;
  }

  /** Gives back the permits of the rules {@code status} does not charge; the first call only. */
  void settle(int status) {
    if (!SETTLED.compareAndSet(this, 0, 1)) {
      return;
    }
    for (Outcome o : outcomes) {
      if (!o.rule.charges(status)) {
        // a queued request's permits were used from its due instant on: held since then
        limiter.giveBack(o, limiter.heldSince(start + o.waitNanos));
      }
    }
  }

  /** Marks the charges settled without giving anything back (the caller does); false if they were. */
  boolean claim() {
    return SETTLED.compareAndSet(this, 0, 1);
  }

  /**
   * {@link #settle} through the stores' asynchronous refunds: the first call gives back and
   * completes when the refunds are answered; later calls complete at once.
   */
  CompletionStage<Void> settleAsync(int status) {
    if (!SETTLED.compareAndSet(this, 0, 1)) {
      return CompletableFuture.completedFuture(null);
    }
    List<CompletableFuture<?>> refunds = null;
    for (Outcome o : outcomes) {
      if (!o.rule.charges(status)) {
        if (refunds == null) {
          refunds = new ArrayList<>(outcomes.length);
        }
        // as in settle: a queued request's permits were held from its due instant on
        Duration held = limiter.heldSince(start + o.waitNanos);
        refunds.add(limiter.giveBackAsync(o, held).toCompletableFuture());
      }
    }
    return refunds == null ? CompletableFuture.completedFuture(null)
        : CompletableFuture.allOf(refunds.toArray(new CompletableFuture<?>[0]));
  }
}
