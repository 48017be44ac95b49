/**
 * Sluice for Spring Cloud Gateway (server WebFlux): {@link dev.sluice.gateway.SluiceRateLimiter},
 * a {@code RateLimiter} for {@code RequestRateLimiter} route filters, and its
 * auto-configuration. See {@code docs/gateway.md}.
 */
package dev.sluice.gateway;
