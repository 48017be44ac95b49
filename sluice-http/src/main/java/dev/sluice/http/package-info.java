/**
 * Framework-neutral HTTP rate limiting, in the three parts of a throttling decorator:
 * <ul>
 *   <li>the strategy that decides: {@link dev.sluice.http.HttpLimiter}, built from
 *       {@link dev.sluice.http.Rule}s (paths, methods, cost), a {@link dev.sluice.http.KeyResolver}
 *       (client IP behind {@link dev.sluice.http.TrustedProxies}, a header, the bearer token, the
 *       principal, or any function; whatever it returns is hashed before it reaches a store or a
 *       log) and exemptions, over a neutral {@link dev.sluice.http.RequestView};</li>
 *   <li>its answer as data: a {@link dev.sluice.http.Verdict} with the headers chosen by
 *       {@link dev.sluice.http.HeaderGroup} and, on refusal, a {@link dev.sluice.http.Rejection}
 *       with its status and RFC 9457 body;</li>
 *   <li>a thin framework adapter (such as {@code dev.sluice.servlet.RateLimitFilter}) that reads
 *       the request and writes the answer.</li>
 * </ul>
 */
package dev.sluice.http;
