/**
 * A rate-limit filter for Jakarta Servlet 6: {@link dev.sluice.servlet.RateLimitFilter} reads the
 * request, lets {@link dev.sluice.http.HttpLimiter} decide, writes the verdict's headers, publishes
 * the binding decision as a request attribute, and on refusal has a
 * {@link dev.sluice.servlet.RejectionHandler} write the answer (by default the RFC 9457 problem).
 */
package dev.sluice.servlet;
