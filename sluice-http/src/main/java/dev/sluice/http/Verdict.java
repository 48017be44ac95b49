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
 * completion.
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

  Verdict(Decision decision, Rejection rejection, String[] headers) {
    this(decision, rejection, headers, List.of(), null);
  }

  Verdict(Decision decision, Rejection rejection, String[] headers, List<String> shadowRefusals,
      Charges charges) {
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
