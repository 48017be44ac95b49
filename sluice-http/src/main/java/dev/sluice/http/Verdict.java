package dev.sluice.http;

import dev.sluice.Decision;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;

/**
 * What {@link HttpLimiter} decided for one request, as data a framework adapter writes out:
 * whether to pass the request on, the response headers to set (on passed and refused requests
 * alike), the refusal to render, the binding decision to publish to the application, and the
 * shadow rules that would have refused it. An adapter that passes the request on calls
 * {@link #complete} once its response's final status is known. Immutable, but for that one
 * completion and the waiting below.
 *
 * <h2>Waiting (queueing rules)</h2>
 * A request admitted by a rule with a wait ({@link Rule.Builder#maxWait}) may have to wait for
 * its permits: {@link #waitNanos()} is then above zero, and the adapter passes the request on
 * only once the wait is over, by one of three means, all of which hold no lock:
 * {@link #await()} parks the calling thread; {@link #whenDue()} completes a future on the core's
 * shared scheduler thread (for asynchronous adapters; resume the request on your own executor);
 * or the adapter schedules {@link #waitNanos()} itself, measured from when {@code decide}
 * returned. An adapter that gives up on a waiting request (client gone, timeout, shutdown) calls
 * {@link #cancel()}, which gives its permits back. The headers and {@link #decision()} of a
 * request that waits describe its state when served, at its due instant.
 */
public final class Verdict {

  static final String[] NO_HEADERS = new String[0];

  /** A request no rule limits: passed, no headers, no decision. */
  static final Verdict UNLIMITED = new Verdict(null, null, NO_HEADERS, List.of(), null);

  private final Decision decision;
  private final Rejection rejection;
  private final String[] headers;
  private final List<String> shadowRefusals;
  /** Null unless a charge-on rule holds permits: then settled by {@link #complete}. */
  private final Charges charges;
  /** Null unless the request must wait for queueing rules' permits ({@link Rule#maxWait()}). */
  private final Waits waits;

  Verdict(Decision decision, Rejection rejection, String[] headers) {
    this(decision, rejection, headers, List.of(), null);
  }

  Verdict(Decision decision, Rejection rejection, String[] headers, List<String> shadowRefusals,
      Charges charges) {
    this(decision, rejection, headers, shadowRefusals, charges, null);
  }

  Verdict(Decision decision, Rejection rejection, String[] headers, List<String> shadowRefusals,
      Charges charges, Waits waits) {
    this.waits = waits;
    this.decision = decision;
    this.rejection = rejection;
    this.headers = headers;
    this.shadowRefusals = shadowRefusals;
    this.charges = charges;
  }

  /**
   * Settles the request once its response's final status is known: every charge-on rule whose
   * statuses do not include {@code status} gives back the permits it took
   * ({@link Rule.Builder#chargeOn(java.util.function.IntPredicate)}). Only the first call acts;
   * later calls (from another thread too) do nothing. A verdict with no charge-on rule holding
   * permits (refused, unlimited, or no such rule) does nothing at all. Adapters call it with the
   * status sent, or 500 when the application threw; an adapter that never calls it keeps every
   * charge (under-admission, never over).
   *
   * @param status the response's final status, from 100 to 599
   * @throws IllegalArgumentException if {@code status} is out of range
   */
  public void complete(int status) {
    Rule.checkStatus("status", status);
    if (charges != null) {
      charges.settle(status);
    }
  }

  /**
   * How long the request must wait before it goes on, in nanoseconds from when
   * {@link HttpLimiter#decide} returned: zero if it may go on at once (and for refused and
   * unlimited requests). Waiting this long on {@link System#nanoTime()} is never early for the
   * buckets of limiters on the system ticker (every reservation was made before {@code decide}
   * returned); {@link #await()} and {@link #whenDue()} wait by the limiters' own tickers.
   *
   * @return the wait, at least 0
   */
  public long waitNanos() {
    return waits == null ? 0 : waits.waitNanos();
  }

  /**
   * Parks the calling thread until the request may go on ({@code LockSupport.parkNanos}, in a
   * loop, by the HTTP limiter's ticker), holding no lock. Interruption while waiting cancels
   * ({@link #cancel()}) and returns false, the thread's interrupt flag still set; so does a
   * {@link #cancel()} from another thread. Returns true at once for a request that need not wait.
   *
   * @return true once the request may go on; false if interrupted or cancelled
   */
  public boolean await() {
    return waits == null || waits.await();
  }

  /**
   * Completes with true when the request may go on, without holding a thread: at once if it need
   * not wait, else at the last due instant of its reservations, on the core's shared scheduler
   * thread ({@code sluice-scheduler}: hand the request on to an executor of your own, do not
   * serve it there). Completes with false if the verdict is {@link #cancel() cancelled} first.
   * Cancelling the returned future before then cancels the verdict. The same future for every
   * call.
   *
   * @return true when due, false if cancelled
   */
  public CompletionStage<Boolean> whenDue() {
    return waits == null ? CompletableFuture.completedFuture(true)
        : waits.whenDue();
  }

  /**
   * Gives up a request that is still waiting (the client went away, a timeout, shutdown): its
   * reservations are cancelled (each gives its permits back if nothing was reserved after it on
   * its bucket: {@link dev.sluice.Reservation#cancel()}) and the permits its other rules took are
   * refunded, so that, as far as the cancel rule allows, it takes from no rule; its charge-on
   * rules are settled (a later {@link #complete} does nothing). Does nothing once the request is
   * due (it may have gone on), for a request that did not wait, or after a first call.
   *
   * @return whether every reservation gave its permits back (false if nothing was cancelled)
   */
  public boolean cancel() {
    return waits != null && waits.cancel();
  }

  /**
   * Whether {@link #complete} has anything to settle: charge-on rules hold permits of this
   * request. An adapter may skip reporting the final status when not.
   *
   * @return true if completing may give permits back
   */
  public boolean settles() {
    return charges != null;
  }

  /**
   * The asynchronous form of {@link #complete}, for adapters that must not block: the same
   * settlement through the stores' asynchronous refunds ({@link dev.sluice.RateLimiter#refundAsync}),
   * completed when they are answered (with the in-memory store, on return). Only the first call
   * of either form acts.
   *
   * @param status the response's final status, from 100 to 599
   * @return completed once settled; exceptionally if a refund failed other than by an
   *     unreachable store (which keeps the permits)
   * @throws IllegalArgumentException if {@code status} is out of range
   */
  public CompletionStage<Void> completeAsync(int status) {
    Rule.checkStatus("status", status);
    return charges == null ? DONE : charges.settleAsync(status);
  }

  private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);

  /**
   * The shadow rules ({@link Rule#shadow()}) that would have refused this request had they
   * enforced, in rule order; empty when none would have. The request was not refused for them.
   *
   * @return the rules' names
   */
  public List<String> shadowRefusals() {
    return shadowRefusals;
  }

  /**
   * Whether the request goes on to the application.
   *
   * @return true unless refused
   */
  public boolean allowed() {
    return rejection == null;
  }

  /**
   * Why the request is refused; empty when it is allowed.
   *
   * @return the rejection, or empty
   */
  public Optional<Rejection> rejection() {
    return Optional.ofNullable(rejection);
  }

  /**
   * The binding decision: the one the headers describe (when allowed, the rule with the fewest
   * permits left; when refused, the refusal with the longest wait), or the failure mode's answer
   * when no decision had a count behind it. Empty when no rule applied or no key was found.
   *
   * @return the decision, or empty
   */
  public Optional<Decision> decision() {
    return Optional.ofNullable(decision);
  }

  /**
   * Calls {@code writer} with each response header's name and value, in order.
   *
   * @param writer receives name, value
   */
  public void forEachHeader(BiConsumer<String, String> writer) {
    for (int i = 0; i < headers.length; i += 2) {
      writer.accept(headers[i], headers[i + 1]);
    }
  }

  /**
   * How many response headers to set; with {@link #headerName} and {@link #headerValue}, an
   * allocation-free alternative to {@link #forEachHeader}.
   *
   * @return the count
   */
  public int headerCount() {
    return headers.length / 2;
  }

  /**
   * The name of response header {@code i}.
   *
   * @param i from 0 to {@link #headerCount()} - 1
   * @return the name
   */
  public String headerName(int i) {
    return headers[2 * i];
  }

  /**
   * The value of response header {@code i}.
   *
   * @param i from 0 to {@link #headerCount()} - 1
   * @return the value
   */
  public String headerValue(int i) {
    return headers[2 * i + 1];
  }

  /**
   * The value of response header {@code name} (as written by {@link #forEachHeader}), or null.
   *
   * @param name the header name, case-insensitive
   * @return the value, or null
   */
  public String header(String name) {
    for (int i = 0; i < headers.length; i += 2) {
      if (headers[i].equalsIgnoreCase(name)) {
        return headers[i + 1];
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return "Verdict[" + (allowed() ? "allowed" : rejection)
        + (shadowRefusals.isEmpty() ? "" : ", shadow refusals " + shadowRefusals) + "]";
  }
}
