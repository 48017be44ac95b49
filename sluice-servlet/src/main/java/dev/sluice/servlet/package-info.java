/**
 * A rate-limit filter for Jakarta Servlet 6, in three small parts:
 * <ul>
 *   <li>a {@link dev.sluice.servlet.KeyResolver} says whose bucket a request draws on (client IP
 *       behind {@link dev.sluice.servlet.TrustedProxies}, a header, the bearer token, the
 *       principal, or any function); whatever it returns is hashed (SHA-256) before it reaches a
 *       store or a log;</li>
 *   <li>{@link dev.sluice.servlet.Rule}s say which requests a limit applies to and what they cost;
 *       several rules on one request are checked all-or-nothing;</li>
 *   <li>a {@link dev.sluice.servlet.RejectionHandler} writes the refusal (by default a 429
 *       {@code application/problem+json} body, RFC 9457).</li>
 * </ul>
 * {@link dev.sluice.servlet.RateLimitFilter} puts them together and writes the headers chosen by
 * {@link dev.sluice.servlet.HeaderGroup} on allowed and refused responses alike.
 */
package dev.sluice.servlet;
