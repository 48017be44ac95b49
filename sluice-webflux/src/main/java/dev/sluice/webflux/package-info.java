/**
 * A rate-limit filter for Spring WebFlux: {@link dev.sluice.webflux.RateLimitWebFilter} reads the
 * exchange, lets {@link dev.sluice.http.HttpLimiter} decide through its asynchronous path (never
 * blocking the event loop), writes the verdict's headers, publishes the binding decision as an
 * exchange attribute, and on refusal has a {@link dev.sluice.webflux.RejectionWriter} write the
 * answer (by default the RFC 9457 problem).
 */
package dev.sluice.webflux;
