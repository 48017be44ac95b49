package dev.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Ticker;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The demo page in Debian's headless Chromium, driven by Selenium through
 * {@code /usr/bin/chromedriver} (named explicitly, so Selenium Manager never downloads a
 * browser or driver). Loads {@code /}, fires requests, and watches the remaining count and the
 * chart change. Runs only in the {@code browser} Maven profile ({@code -Pbrowser}).
 * {@code -Ddemo.screenshot=<file>} chooses where the screenshot goes (default
 * {@code target/demo-page.png}).
 */
@Tag("browser")
class DemoPageBrowserTest {

  private static final String CHROMIUM = "/usr/bin/chromium";
  private static final String CHROMEDRIVER = "/usr/bin/chromedriver";

  private static Path profile;
  private static ChromeDriverService service;
  private static WebDriver driver;

  @BeforeAll
  static void startBrowser() throws Exception {
    assertThat(new File(CHROMEDRIVER).canExecute()).as("Debian's chromium-driver package at " + CHROMEDRIVER).isTrue();
    assertThat(new File(CHROMIUM).canExecute()).as("Debian's chromium package at " + CHROMIUM).isTrue();
    profile = Files.createTempDirectory("sluice-chromium-");
    service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER))
        .usingAnyFreePort()
        .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--user-data-dir=" + profile, "--window-size=900,1150");
    driver = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stopBrowser() throws Exception {
    if (driver != null) {
      driver.quit();
    }
    if (service != null) {
      service.stop();
    }
    if (profile != null) {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  private static String text(String id) {
    return driver.findElement(By.id(id)).getText();
  }

  private static int count(String css) {
    return driver.findElements(By.cssSelector(css)).size();
  }

  private static void await(String what, Function<WebDriver, Boolean> condition) {
    new WebDriverWait(driver, Duration.ofSeconds(20)).withMessage(what).until(condition);
  }

  private static DemoServer start(String... args) throws Exception {
    return DemoServer.start(DemoOptions.parse(args, Map.<String, String>of()::get), Ticker.system());
  }

  @Test
  void page_firingRequests_remainingCountAndChartChange() throws Exception {
    // one permit a minute: nothing refills while the test runs
    try (DemoServer demo = start("--port", "0", "--limit", "1/m", "--burst", "5")) {
      driver.get(demo.baseUrl() + "/");
      await("remaining shows the full bucket", d -> text("remaining").equals("5"));
      assertThat(text("capacity")).isEqualTo("5");
      assertThat(text("config")).contains("Requests to /hello: 1/m with bursts of 5 per client IP")
          .endsWith("Buckets in memory.");
      assertThat(count("#bars rect")).isZero();

      for (int i = 0; i < 3; i++) {
        driver.findElement(By.id("fire")).click();
      }
      await("3 allowed", d -> text("allowed").equals("3"));
      await("remaining 2", d -> text("remaining").equals("2"));
      assertThat(text("denied")).isEqualTo("0");
      await("green bars", d -> count("#bars rect.ok") > 0);
      assertThat(count("#bars rect.no")).isZero();

      // a client other than the page, on the same key (the client IP): the chart counts it too
      assertThat(DemoServerTest.get(demo.baseUrl() + "/hello").statusCode()).isEqualTo(200);
      await("4 allowed, one of them not the page's", d -> text("allowed").equals("4"));
      await("remaining 1", d -> text("remaining").equals("1"));

      for (int i = 0; i < 3; i++) {
        driver.findElement(By.id("fire")).click();
      }
      await("5 allowed, 2 denied",
          d -> text("allowed").equals("5") && text("denied").equals("2"));
      await("remaining 0", d -> text("remaining").equals("0"));
      await("red bars", d -> count("#bars rect.no") > 0);
      assertThat(text("last")).startsWith("Last: 429 — retry after ")
          .endsWith(" s (decided by: the store)");
      assertThat(text("headers")).contains("X-RateLimit-Remaining: 0")
          .contains("RateLimit-Policy: \"api\";q=5;w=300")
          .contains("Sluice-Decision-Source: store")
          .contains("\"type\":\"https://iana.org/assignments/http-problem-types#quota-exceeded\"");
      assertThat(driver.findElement(By.id("line")).getAttribute("points")).isNotBlank();
    }
  }

  @Test
  void page_autoFire_drainsAndRefillsLive_screenshot() throws Exception {
    try (DemoServer demo = start("--port", "0", "--limit", "4/s", "--burst", "8")) {
      driver.get(demo.baseUrl() + "/");
      await("status loaded", d -> text("remaining").equals("8"));
      driver.findElement(By.id("auto")).click(); // 20 requests/s against 4/s
      await("the bucket drains: denials appear and keep coming alongside refills",
          d -> Integer.parseInt(text("denied")) >= 25 && Integer.parseInt(text("allowed")) >= 20);
      assertThat(count("#bars rect.ok")).isGreaterThan(3);
      assertThat(count("#bars rect.no")).isGreaterThan(3);
      Path shot = Path.of(System.getProperty("demo.screenshot", "target/demo-page.png"));
      Files.createDirectories(shot.toAbsolutePath().getParent());
      File png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
      Files.copy(png.toPath(), shot, StandardCopyOption.REPLACE_EXISTING);
      assertThat(Files.size(shot)).isGreaterThan(10_000);
      driver.findElement(By.id("auto")).click();
      await("refilled after auto-fire stops", d -> text("remaining").equals("8"));
    }
  }
}
