package dev.sluice.http;

/**
 * What {@link HttpLimiter} does with a request for which a rule's {@link KeyResolver} finds
 * no key (no API-key header, no bearer token, no principal). Keyless requests are never pooled
 * into one shared bucket.
 */
public enum MissingKey {

  /**
   * Refuse the request (the default) with a {@link Rejection.Reason#MISSING_KEY} rejection, by
   * default a 403 problem response naming what the key should be.
   */
  DENY,

  /**
   * Let the request through, not limited by the rule whose key is missing. Only safe when
   * something else (authentication, another rule keyed on the client IP) bounds keyless traffic.
   */
  ALLOW
}
