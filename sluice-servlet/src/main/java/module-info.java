/**
 * Sluice for Jakarta Servlet 6 containers (Jetty 12, Tomcat 10.1+, Spring Boot 3): a rate-limit
 * filter built from a key resolver, rules and a rejection handler, writing the standard headers.
 * Exports {@link dev.sluice.servlet} only.
 */
module dev.sluice.servlet {
  requires transitive dev.sluice.core;
  requires transitive jakarta.servlet;

  exports dev.sluice.servlet;
}
