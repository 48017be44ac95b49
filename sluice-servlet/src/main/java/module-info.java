/**
 * Sluice for Jakarta Servlet 6 containers (Jetty 12, Tomcat 10.1+, Spring Boot 3+): a thin filter
 * over {@link dev.sluice.http}, which decides. Exports {@link dev.sluice.servlet} only.
 */
module dev.sluice.servlet {
  requires transitive dev.sluice.http;
  requires transitive jakarta.servlet;

  exports dev.sluice.servlet;
}
