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

  exports dev.sluice.webflux;
}
