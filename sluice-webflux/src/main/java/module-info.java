/**
 * Sluice for Spring WebFlux: a thin, non-blocking {@code WebFilter} over {@link dev.sluice.http},
 * which decides. Usable without Spring Boot. Exports {@link dev.sluice.webflux} only.
 */
module dev.sluice.webflux {
  requires transitive dev.sluice.http;
  requires transitive spring.web;
  requires transitive reactor.core;
  requires transitive spring.core;
  requires org.reactivestreams;
  // optional: on Reactor Netty the filter resumes the chain on the connection's event loop
  requires static reactor.netty.core;
  requires static io.netty.transport;
  requires static io.netty.common;

  exports dev.sluice.webflux;
}
