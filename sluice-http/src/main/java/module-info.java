/**
 * Sluice for HTTP, framework-neutral: rules, key resolution over a {@link dev.sluice.http.RequestView},
 * the all-or-nothing decision across rules, and the response headers and RFC 9457 problem as data
 * ({@link dev.sluice.http.Verdict}) that a framework adapter writes out. Depends on the core only.
 * Exports {@link dev.sluice.http} only.
 */
module dev.sluice.http {
  requires transitive dev.sluice.core;

  exports dev.sluice.http;
}
