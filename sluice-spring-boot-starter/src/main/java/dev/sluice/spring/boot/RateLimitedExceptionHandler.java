package dev.sluice.spring.boot;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Spring MVC's answer to {@link RateLimitedException}: 429 Too Many Requests, an RFC 9457
 * problem naming the rule, {@code Retry-After} in whole seconds (rounded up, at least 1) when the
 * wait is known.
 */
@RestControllerAdvice
public final class RateLimitedExceptionHandler {

  /** Created by the auto-configuration. */
  public RateLimitedExceptionHandler() {}

  /**
   * The 429 problem.
   *
   * @param e the refusal
   * @return the response
   */
  @ExceptionHandler(RateLimitedException.class)
  public ResponseEntity<ProblemDetail> rateLimited(RateLimitedException e) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS,
        "rate limit of rule \"" + e.rule() + "\" reached");
    p.setTitle("Too Many Requests");
    p.setProperty("violated-policies", java.util.List.of(e.rule()));
    ResponseEntity.BodyBuilder b = ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS)
        .header("Cache-Control", "no-store");
    e.retryAfter().ifPresent(d -> {
      long nanos = d.toNanos();
      long seconds = Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
      b.header("Retry-After", Long.toString(seconds));
    });
    return b.body(p);
  }
}
