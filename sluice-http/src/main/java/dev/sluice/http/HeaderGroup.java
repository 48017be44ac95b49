package dev.sluice.http;

/**
 * The groups of rate-limit response headers {@link HttpLimiter} can write; each can be
 * switched off. All times are whole seconds, rounded up.
 */
public enum HeaderGroup {

  /**
   * The de-facto headers, on allowed and refused responses: {@code X-RateLimit-Limit} (the
   * capacity), {@code X-RateLimit-Remaining} (whole permits left) and {@code X-RateLimit-Reset}
   * (seconds until the bucket is full again). With several rules on one request they describe the
   * most constraining one.
   */
  X_RATELIMIT,

  /**
   * The IETF fields of draft-ietf-httpapi-ratelimit-headers-10, in Structured Fields syntax (RFC
   * 9651), on allowed and refused responses: {@code RateLimit-Policy: "<name>";q=<capacity>;w=<seconds
   * to fill>} for every rule that applied, and {@code RateLimit: "<name>";r=<remaining>;t=<seconds
   * until full>} for every rule that decided the response.
   */
  IETF,

  /**
   * {@code Retry-After: <seconds>} on refusals: the wait rounded up to whole seconds, never below
   * 1, after which the same request succeeds if nothing else takes the permits first. Omitted
   * when the request can never succeed (it costs more than the capacity).
   */
  RETRY_AFTER
}
