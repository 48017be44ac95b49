package dev.sluice.spring.boot;

/**
 * Whether the reactive tests can run: {@code sluice-webflux} runs on Spring Framework 7 (Boot 4)
 * only, so on Boot 3.5 ({@code sluice-spring-boot3-tests}) they are disabled and
 * {@link WebFluxStartupFailureTest} checks that the application refuses to start instead.
 */
final class WebFluxSupport {

  private WebFluxSupport() {}

  static boolean supported() {
    return SluiceAutoConfiguration.Reactive.webFluxSupported();
  }
}
