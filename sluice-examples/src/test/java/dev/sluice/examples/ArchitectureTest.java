package dev.sluice.examples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathExpressionException;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * The module graph, checked twice: in the production classes of every module (this module
 * depends on all the others, so their jars are on its test class path) and in the modules'
 * pom.xml files.
 *
 * <pre>
 *   core  (dev.sluice, dev.sluice.spi, dev.sluice.internal)   java.. only
 *   http        -> core
 *   servlet     -> core, http, jakarta.servlet
 *   redis       -> core, io.lettuce
 *   micrometer  -> core, io.micrometer
 *   examples, benchmarks -> anything; nothing depends on them
 * </pre>
 *
 */
class ArchitectureTest {

  private static final String[] CORE = {"dev.sluice", "dev.sluice.spi", "dev.sluice.internal"};
  private static final String HTTP = "dev.sluice.http..";
  private static final String SERVLET = "dev.sluice.servlet..";
  private static final String REDIS = "dev.sluice.redis..";
  private static final String MICROMETER = "dev.sluice.micrometer..";
  private static final String EXAMPLES = "dev.sluice.examples..";
  private static final String BENCHMARKS = "dev.sluice.benchmarks..";

  /** Test fixtures that other modules publish as test-jars (sluice-redis's RedisServer). */
  static final class DoNotIncludeTestJars implements ImportOption {
    private static final Pattern TEST_JAR = Pattern.compile(".*-tests\\.jar!/.*");

    @Override
    public boolean includes(Location location) {
      return !location.matches(TEST_JAR);
    }
  }

  private static final JavaClasses PRODUCTION = new ClassFileImporter()
      .withImportOption(new ImportOption.DoNotIncludeTests())
      .withImportOption(new DoNotIncludeTestJars())
      .importPackages("dev.sluice");

  private static String[] with(String[] packages, String... more) {
    List<String> all = new ArrayList<>(List.of(packages));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  // ---- the classes ----

  @Test
  void classes_importedFromEveryModuleOnTheClassPath() {
    Set<String> modules = new LinkedHashSet<>();
    PRODUCTION.forEach(c -> modules.add(moduleOf(c.getPackageName())));
    assertThat(modules).as("modules whose production classes were imported")
        .contains("core", "http", "servlet", "redis", "micrometer", "examples");
  }

  @Test
  void core_dependsOnlyOnJavaAndItself() {
    classes().that().resideInAnyPackage(CORE)
        .should().onlyDependOnClassesThat().resideInAnyPackage(with(CORE, "java.."))
        .as("core (dev.sluice, dev.sluice.spi, dev.sluice.internal) depends only on java.. and core")
        .because("sluice-core has no runtime dependencies and knows no other module")
        .check(PRODUCTION);
  }

  @Test
  void http_dependsOnlyOnJavaAndCore() {
    classes().that().resideInAPackage(HTTP)
        .should().onlyDependOnClassesThat().resideInAnyPackage(with(CORE, "java..", HTTP))
        .as("dev.sluice.http.. depends only on java.. and core")
        .because("the HTTP strategy decides over a neutral request; frameworks live in adapters")
        .check(PRODUCTION);
  }

  @Test
  void servlet_dependsOnlyOnJavaCoreHttpAndServletApi() {
    classes().that().resideInAPackage(SERVLET)
        .should().onlyDependOnClassesThat()
        .resideInAnyPackage(with(CORE, "java..", HTTP, SERVLET, "jakarta.servlet.."))
        .as("dev.sluice.servlet.. depends only on java.., core, dev.sluice.http.. and jakarta.servlet..")
        .because("the servlet adapter reads a request and writes the answer, nothing more")
        .check(PRODUCTION);
  }

  @Test
  void redis_dependsOnlyOnJavaCoreAndLettuce() {
    classes().that().resideInAPackage(REDIS)
        .should().onlyDependOnClassesThat().resideInAnyPackage(with(CORE, "java..", REDIS,
            "io.lettuce.."))
        .as("dev.sluice.redis.. depends only on java.., core and io.lettuce..")
        .because("the Redis store speaks to Redis through Lettuce's API alone")
        .check(PRODUCTION);
  }

  @Test
  void micrometer_dependsOnlyOnJavaCoreAndMicrometer() {
    classes().that().resideInAPackage(MICROMETER)
        .should().onlyDependOnClassesThat().resideInAnyPackage(with(CORE, "java..", MICROMETER,
            "io.micrometer.."))
        .as("dev.sluice.micrometer.. depends only on java.., core and io.micrometer..")
        .because("the binder adapts core's listener SPI to Micrometer meters")
        .check(PRODUCTION);
  }

  @Test
  void redis_dependsOnNoOtherModule() {
    noSideways(REDIS, MICROMETER, HTTP, SERVLET, EXAMPLES, BENCHMARKS).check(PRODUCTION);
  }

  @Test
  void micrometer_dependsOnNoOtherModule() {
    noSideways(MICROMETER, REDIS, HTTP, SERVLET, EXAMPLES, BENCHMARKS).check(PRODUCTION);
  }

  @Test
  void http_dependsOnNoOtherModule() {
    noSideways(HTTP, REDIS, MICROMETER, SERVLET, EXAMPLES, BENCHMARKS)
        .check(PRODUCTION);
  }

  @Test
  void servlet_dependsOnNoStoreOrBindingModule() {
    noSideways(SERVLET, REDIS, MICROMETER, EXAMPLES, BENCHMARKS).check(PRODUCTION);
  }

  private static ArchRule noSideways(String module, String... others) {
    return noClasses().that().resideInAPackage(module)
        .should().dependOnClassesThat().resideInAnyPackage(others)
        .as(module + " depends on none of " + String.join(", ", others))
        .because("modules are used side by side; each one depends on core (servlet also on http)");
  }

  @Test
  void modules_freeOfCycles() {
    slices().assignedFrom(MODULES).should().beFreeOfCycles()
        .because("a cycle between modules makes them one module in two jars")
        .check(PRODUCTION);
  }

  private static final SliceAssignment MODULES = new SliceAssignment() {
    @Override
    public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
      String module = moduleOf(javaClass.getPackageName());
      return module == null ? SliceIdentifier.ignore() : SliceIdentifier.of(module);
    }

    @Override
    public String getDescription() {
      return "Sluice modules (core = dev.sluice, dev.sluice.spi, dev.sluice.internal; "
          + "any other dev.sluice.X.. = X)";
    }
  };

  /** The module a package belongs to, or null outside dev.sluice. */
  static String moduleOf(String pkg) {
    if (!pkg.equals("dev.sluice") && !pkg.startsWith("dev.sluice.")) {
      return null;
    }
    String[] parts = pkg.split("\\.");
    if (parts.length == 2 || parts[2].equals("spi") || parts[2].equals("internal")) {
      return "core";
    }
    return parts[2];
  }

  // ---- the poms ----

  /** Reactor modules that are not published: no rule about what they depend on. */
  private static final Set<String> UNPUBLISHED =
      Set.of("sluice-examples", "sluice-benchmarks", "sluice-bom", "sluice-spring-boot3-tests",
          "sluice-spring-boot-gateway-tests", "sluice-spring-boot-security-tests",
          "sluice-spring-boot-demo");

  /** What a published module may depend on outside test scope; sluice-core for the others. */
  private static final Map<String, Set<String>> ALLOWED = Map.of(
      "sluice-core", Set.of(),
      "sluice-servlet", Set.of("sluice-core", "sluice-http"),
      "sluice-webflux", Set.of("sluice-core", "sluice-http"),
      "sluice-gateway", Set.of("sluice-core", "sluice-http"),
      // the starter wires the adapters and stores; nothing published depends on it
      "sluice-spring-boot-starter", Set.of("sluice-core", "sluice-http", "sluice-servlet",
          "sluice-webflux", "sluice-gateway", "sluice-redis", "sluice-micrometer"));

  private record Dependency(String groupId, String artifactId, String scope) {
    boolean isSluice() {
      return groupId.equals("dev.sluice") || groupId.equals("${project.groupId}");
    }

    @Override
    public String toString() {
      return groupId + ":" + artifactId + " (" + scope + ")";
    }
  }

  @Test
  void pom_core_dependsOnNothingOutsideTestScope() throws Exception {
    List<String> violations = new ArrayList<>();
    for (Dependency d : dependencies(reactorRoot().resolve("sluice-core/pom.xml"))) {
      if (!d.scope().equals("test")) {
        violations.add("sluice-core/pom.xml: " + d);
      }
    }
    assertThat(violations)
        .as("sluice-core has no runtime dependencies: every dependency in its pom is test scope")
        .isEmpty();
  }

  @Test
  void poms_publishedModules_dependOnNoSiblingButCoreAndHttp() throws Exception {
    Path root = reactorRoot();
    List<String> published = new ArrayList<>();
    List<String> violations = new ArrayList<>();
    for (String module : nodes(parse(root.resolve("pom.xml")), "/project/modules/module")) {
      if (UNPUBLISHED.contains(module)) {
        continue;
      }
      published.add(module);
      Set<String> allowed = ALLOWED.getOrDefault(module, Set.of("sluice-core"));
      for (Dependency d : dependencies(root.resolve(module).resolve("pom.xml"))) {
        if (d.isSluice() && !d.scope().equals("test") && !allowed.contains(d.artifactId())) {
          violations.add(module + "/pom.xml: " + d + "; allowed outside test scope: "
              + (allowed.isEmpty() ? "no Sluice module" : String.join(", ", allowed)));
        }
      }
    }
    assertThat(published).as("published modules found in %s", root.resolve("pom.xml"))
        .contains("sluice-core", "sluice-servlet", "sluice-redis", "sluice-micrometer");
    assertThat(violations)
        .as("a published module depends (outside test scope) only on sluice-core, "
            + "and servlet, webflux or gateway also on sluice-http")
        .isEmpty();
  }

  /** The reactor root: the parent of this module's directory, where surefire runs the tests. */
  private static Path reactorRoot() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize();
    Path pom = root.resolve("pom.xml");
    assertThat(Files.isRegularFile(pom)).as("reactor pom at %s", pom).isTrue();
    assertThat(nodes(parse(pom), "/project/artifactId")).as("artifactId of %s", pom)
        .containsExactly("sluice-parent");
    return root;
  }

  /** The dependencies a module declares (not managed ones), its profiles' included. */
  private static List<Dependency> dependencies(Path pom) throws Exception {
    Document doc = parse(pom);
    NodeList list = (NodeList) XPathFactory.newInstance().newXPath().evaluate(
        "/project/dependencies/dependency | /project/profiles/profile/dependencies/dependency",
        doc, XPathConstants.NODESET);
    List<Dependency> out = new ArrayList<>();
    for (int i = 0; i < list.getLength(); i++) {
      Node d = list.item(i);
      String scope = child(d, "scope");
      out.add(new Dependency(child(d, "groupId"), child(d, "artifactId"),
          scope.isEmpty() ? "compile" : scope));
    }
    return out;
  }

  private static String child(Node parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n.getNodeType() == Node.ELEMENT_NODE && n.getNodeName().equals(name)) {
        return n.getTextContent().trim();
      }
    }
    return "";
  }

  private static List<String> nodes(Document doc, String xpath) throws XPathExpressionException {
    NodeList list = (NodeList) XPathFactory.newInstance().newXPath()
        .evaluate(xpath, doc, XPathConstants.NODESET);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < list.getLength(); i++) {
      out.add(list.item(i).getTextContent().trim());
    }
    return out;
  }

  /** A pom as a DOM without namespaces (element names as written), no DTDs or entities. */
  private static Document parse(Path pom)
      throws ParserConfigurationException, SAXException, IOException {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(false);
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setExpandEntityReferences(false);
    return f.newDocumentBuilder().parse(pom.toFile());
  }
}
