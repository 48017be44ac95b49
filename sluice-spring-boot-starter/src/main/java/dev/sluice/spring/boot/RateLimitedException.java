package dev.sluice.spring.boot;

import java.time.Duration;
import java.util.Optional;

/**
 * A call refused by {@link RateLimited}: the method was not called. In a Spring MVC
 * application it is answered with 429 and an RFC 9457 problem ({@code Retry-After} when known).
 */
public final class RateLimitedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** The rule that refused. */
  private final String rule;
  /** The wait, or null (not serialized). */
  private final transient Duration retryAfter;

  /**
   * A refusal.
   *
   * @param rule the rule that refused
   * @param retryAfter when a retry may succeed, or null if never (or unknown)
   */
  public RateLimitedException(String rule, Duration retryAfter) {
    super("rate limit of rule \"" + rule + "\" reached"
        + (retryAfter == null ? "" : "; retry after " + retryAfter));
    this.rule = rule;
    this.retryAfter = retryAfter;
  }

  /**
   * The rule that refused.
   *
   * @return its name
   */
  public String rule() {
    return rule;
  }

  /**
   * When a retry may succeed.
   *
   * @return the wait, or empty if unknown or never
   */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
