package dev.sluice.http;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.Reservation;
import java.util.List;

/**
 * The queueing half of a decision ({@link Rule.Builder#maxWait}): a rule that waits and whose
 * decision refused a request that can succeed reserves its permits instead, and its decision
 * becomes the request's state once served.
 *
 * <p>Why decide first and reserve only after a refusal: a request admitted at once gets the exact
 * decision (its headers count the permits left), the path every request of a rule without a wait
 * takes. Why reserve after every refusal, whatever its {@code retryAfter}: a refusal may come
 * from a store's deny cache, whose wait is measured from a reply and can be longer than the true
 * one; the reservation is decided by the store itself (a Redis store's reserve path never
 * consults its deny cache), so no request that could be served within the wait is refused. The
 * price is a second call for a request that queues or is refused.
 */
final class Queueing {

  private Queueing() {}

  /**
   * {@code d}, or, if {@code o}'s rule waits and {@code d} is a refusal by a bucket that the wait
   * could end, the outcome of reserving: an admission describing the bucket at the due instant
   * (the reservation kept on {@code o} when it waits), or the reservation's refusal. Called with
   * {@code o}'s material entered (plans).
   */
  static Decision reserveIfQueued(Outcome o, Decision d) {
    long maxWait = o.rule.maxWaitNanos();
    if (maxWait == 0 || (d.allowed() && !d.wouldRefuse()) || !d.canEverSucceed()
        || (d.source() != Decision.Source.STORE && d.source() != Decision.Source.DENY_CACHE)) {
      return d; // a refusal by the deny cache queues too: only the store's reservation decides
    }
    boolean shadow = d.wouldRefuse();
    if (shadow && d.retryAfterNanos() > maxWait) {
      return d; // a shadow rule's reservation is always answered as granted: decide by the wait
    }
    Reservation r;
    try {
      r = o.limiter.reserve(o.key, o.cost, o.rule.maxWait());
    } catch (UnsupportedOperationException cannot) {
      return d; // a store that cannot reserve: the refusal stands, as with no wait
    }
    Policy p = o.limiter.policy(o.key);
    int i = d.bindingIndex();
    List<Limit> limits = p.limits();
    if (i < 0 || i >= limits.size() || limits.get(i).capacity() != d.limit()) {
      p = Policy.of(d.bindingLimit().orElseThrow()); // the policy changed in between
      i = 0;
    }
    if (shadow) {
      return served(p, i); // taken as if enforcing; a shadow rule never delays a request
    }
    if (r.granted()) {
      long wait = r.delay().toNanos();
      if (wait > 0) {
        o.reservation = r;
        o.waitNanos = wait;
      }
      return served(p, i);
    }
    if (r.exceedsCapacity()) {
      return Decision.exceedsCapacity(p, i, 0, d.resetAfterNanos());
    }
    long wait;
    try {
      wait = r.delay().toNanos();
    } catch (IllegalStateException unavailable) {
      return d; // the store could not decide the reservation: the refusal stands
    }
    return Decision.denied(p, i, Math.min(d.remaining(), p.limits().get(i).capacity()),
        Math.max(1, Math.max(wait, d.retryAfterNanos())), d.resetAfterNanos());
  }

  /**
   * The state of a bucket at the due instant {@code D} of a reservation: the limit that made it
   * wait has no whole permit left at {@code D} (its empty instant is {@code D}, or less than the
   * store's rounding before it), so {@code remaining} is 0, and every limit was charged at or
   * before {@code D}, so each is full within its fill time: the longest fill time is an upper
   * bound of the time until full (exact for one limit of a whole-nanosecond interval). For a
   * reservation that came out due at once (the bucket refilled in between), 0 under-reports.
   */
  private static Decision served(Policy p, int i) {
    long reset = 0;
    for (Limit l : p.limits()) {
      long fill;
      try {
        fill = l.fillTime().toNanos();
      } catch (ArithmeticException tooLong) {
        fill = Long.MAX_VALUE;
      }
      reset = Math.max(reset, fill);
    }
    return Decision.allowed(p, i, 0, reset);
  }
}
