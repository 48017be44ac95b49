package dev.sluice.http;

import dev.sluice.Decision;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Why {@link HttpLimiter} refused a request, as data a framework adapter renders: the
 * {@link #status()}, the RFC 9457 body ({@link #problemJson()}, of type
 * {@value #PROBLEM_JSON}), the binding decision. The rate-limit headers are in the
 * {@link Verdict}. Immutable.
 */
public final class Rejection {

  /** The kind of refusal. */
  public enum Reason {
    /** A rule's bucket lacks the permits now; the request can succeed later. 429. */
    QUOTA_EXCEEDED,
    /** The request costs more than a rule's capacity: it can never succeed. 429, no Retry-After. */
    EXCEEDS_CAPACITY,
    /** A rule's resolver found no key (or a blank one) and {@link MissingKey#DENY} applies. 403. */
    MISSING_KEY,
    /**
     * A rule's store could not decide and its limiter's failure mode is
     * {@link dev.sluice.FailureMode#CLOSED} (or the limiter is closed): the client did nothing
     * wrong, so 503, with no rate-limit headers and no Retry-After.
     */
    UNAVAILABLE
  }

  /** The media type of {@link #problemJson()}. */
  public static final String PROBLEM_JSON = "application/problem+json";

  private final Reason reason;
  private final List<String> rules;
  private final long permits;
  private final Decision decision;
  private final String wanted;

  Rejection(Reason reason, List<String> rules, long permits, Decision decision, String wanted) {
    this.reason = reason;
    this.rules = List.copyOf(rules);
    this.permits = permits;
    this.decision = decision;
    this.wanted = wanted;
  }

  /**
   * For {@link Reason#MISSING_KEY}: what the rule's resolver looks for
   * ({@link KeyResolver#describe()}, such as {@code "header X-API-Key"}); otherwise empty text.
   *
   * @return the description
   */
  public String wanted() {
    return wanted == null ? "" : wanted;
  }

  /**
   * The RFC 9457 problem body ({@value #PROBLEM_JSON}): of type
   * {@code https://iana.org/assignments/http-problem-types#quota-exceeded} for quota refusals,
   * {@code about:blank} for a missing key (403) or an unavailable store (503). It names rules,
   * numbers and what a missing key should be, never key material.
   *
   * @return the JSON text
   */
  public String problemJson() {
    return ProblemJson.body(this);
  }

  /**
   * The kind of refusal.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }

  /**
   * The suggested status: 429 for quota refusals, 403 for a missing key, 503 when the store was
   * unavailable.
   *
   * @return the status code
   */
  public int status() {
    switch (reason) {
      case MISSING_KEY:
        return 403;
      case UNAVAILABLE:
        return 503;
      default:
        return 429;
    }
  }

  /**
   * The names of the rules that refused the request (for a missing key, the rule whose key was
   * missing).
   *
   * @return rule names, at least one
   */
  public List<String> rules() {
    return rules;
  }

  /**
   * The permits the request asked of the binding rule (0 for a missing key).
   *
   * @return permits
   */
  public long permits() {
    return permits;
  }

  /**
   * The binding decision: the refusal with the longest wait (for {@link Reason#UNAVAILABLE}, the
   * failure mode's refusal). Empty for a missing key.
   *
   * @return the decision, or empty
   */
  public Optional<Decision> decision() {
    return Optional.ofNullable(decision);
  }

  /**
   * How long until the request can succeed; empty when it never can, when no key was found, or
   * when the store was unavailable (nobody knows when it will be back).
   *
   * @return the exact wait, or empty
   */
  public Optional<Duration> retryAfter() {
    return decision == null || reason == Reason.UNAVAILABLE
        ? Optional.empty() : decision.retryAfter();
  }

  /**
   * The value of {@code Retry-After}: {@link #retryAfter()} rounded up to whole seconds, at
   * least 1. A client that waits this long succeeds, if nothing else takes the permits first.
   *
   * @return seconds, or empty
   */
  public OptionalLong retryAfterSeconds() {
    Optional<Duration> wait = retryAfter();
    if (wait.isEmpty()) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Headers.retryAfterSeconds(decision.retryAfterNanos()));
  }

  @Override
  public String toString() {
    return "Rejection[" + reason + ", rules=" + rules + ", permits=" + permits
        + (decision == null ? "" : ", " + decision) + "]";
  }
}
