// Proxies: CONNECT tunnels for https://, absolute-form requests for http://, NO_PROXY, and
// credentials that never leak into errors.
#include <llm/transport/https.hpp>

#include <support/https_client.hpp>
#include <support/loopback_server.hpp>
#include <support/printers.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>

using namespace llm;
using namespace std::chrono_literals;
using test::loopback_server;
namespace act = test::server_action;

namespace {

transport::https_options through(transport::proxy_settings proxy)
{
    auto o = test::quick_https_options();
    o.ca_file = test::test_certificates::get().ca_file.string();
    o.proxy = std::move(proxy);
    return o;
}

result<http::response> send(transport::https& wire, asio::io_context& io, std::string url)
{
    return test::send(wire, io, test::get(std::move(url)));
}

} // namespace

TEST_CASE("https:// goes through the proxy's CONNECT tunnel, with TLS end to end", "[transport][proxy]")
{
    loopback_server target(test::tls_certificate::localhost);
    target.then(test::answer(200, "tunnelled"));
    loopback_server proxy;
    proxy.then({act::tunnel{target.port()}});
    asio::io_context io;
    transport::https wire(io.get_executor(), through({.https_proxy = proxy.url()}));

    auto r = send(wire, io, target.url("/v1/messages"));
    REQUIRE(r);
    CHECK(r.value().body == "tunnelled");
    auto asked = proxy.received();
    REQUIRE(asked.size() == 1);
    const auto host_port = "127.0.0.1:" + std::to_string(target.port());
    CHECK_THAT(asked[0].head, Catch::StartsWith("CONNECT " + host_port + " HTTP/1.1\r\nHost: " + host_port));
    REQUIRE(target.received().size() == 1);
    CHECK_THAT(target.received()[0].head, Catch::StartsWith("GET /v1/messages HTTP/1.1"));
}

TEST_CASE("http:// goes to the proxy as an absolute-form request; the target is never resolved", "[transport][proxy]")
{
    loopback_server proxy;
    proxy.then(test::answer(200, "via proxy"));
    asio::io_context io;
    transport::https wire(io.get_executor(), through({.http_proxy = proxy.url()}));

    auto r = send(wire, io, "http://models.internal.invalid:8080/api/chat?x=1");
    REQUIRE(r);
    CHECK(r.value().body == "via proxy");
    REQUIRE(proxy.received().size() == 1);
    CHECK_THAT(proxy.received()[0].head,
               Catch::StartsWith("GET http://models.internal.invalid:8080/api/chat?x=1 HTTP/1.1\r\n"
                                 "Host: models.internal.invalid:8080\r\n"));
}

TEST_CASE("NO_PROXY hosts and domains go direct", "[transport][proxy]")
{
    loopback_server target;
    target.then(test::answer(200, "direct"));
    loopback_server proxy;
    asio::io_context io;
    transport::https wire(io.get_executor(),
                          through({.http_proxy = proxy.url(), .no_proxy = "example.com, 127.0.0.1"}));

    auto r = send(wire, io, target.url());
    REQUIRE(r);
    CHECK(r.value().body == "direct");
    CHECK(proxy.connections_accepted() == 0);

    transport::proxy_settings p{.https_proxy = "http://p:1", .no_proxy = ".corp.example, Localhost,other.org"};
    CHECK(p.bypassed("api.corp.example"));
    CHECK(p.bypassed("corp.example"));
    CHECK(p.bypassed("LOCALHOST"));
    CHECK(p.bypassed("x.other.org"));
    CHECK_FALSE(p.bypassed("notother.org"));
    CHECK_FALSE(p.bypassed("api.openai.com"));
    CHECK(transport::proxy_settings{.no_proxy = "*"}.bypassed("anything"));
}

TEST_CASE("proxy credentials are sent as Basic authorization and never appear in errors", "[transport][proxy]")
{
    loopback_server proxy;
    proxy.then(test::answer(407, "who are you", "Proxy-Authenticate: Basic\r\n"));
    asio::io_context io;
    const auto credentials_url = "http://user:p%40ss@127.0.0.1:" + std::to_string(proxy.port());
    transport::https wire(io.get_executor(), through({.https_proxy = credentials_url}));

    auto r = send(wire, io, "https://api.example.invalid/v1");
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::unauthorized);
    CHECK(r.error().http_status == 407);
    CHECK(r.error().describe().find("p@ss") == std::string::npos);
    CHECK(r.error().describe().find("p%40ss") == std::string::npos);
    REQUIRE(proxy.received().size() == 1);
    CHECK_THAT(proxy.received()[0].head, Catch::Contains("Proxy-Authorization: Basic dXNlcjpwQHNz\r\n"));
}

TEST_CASE("a proxy that refuses the tunnel fails the request with its status", "[transport][proxy]")
{
    loopback_server proxy;
    proxy.then(test::answer(403, "no"));
    asio::io_context io;
    transport::https wire(io.get_executor(), through({.https_proxy = proxy.url()}));

    auto r = send(wire, io, "https://api.example.invalid/v1");
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::provider_unavailable);
    CHECK(r.error().http_status == 403);
    CHECK_THAT(r.error().message, Catch::Contains("refused the tunnel"));
}

TEST_CASE("an unusable proxy setting is a configuration error that does not echo it", "[transport][proxy]")
{
    asio::io_context io;
    transport::https wire(io.get_executor(), through({.https_proxy = "https://user:secret@proxy:3128"}));
    auto r = send(wire, io, "https://api.example.invalid/v1");
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_configuration);
    CHECK(r.error().describe().find("secret") == std::string::npos);
}

TEST_CASE("proxy settings come from the environment, lower case first", "[transport][proxy]")
{
    ::setenv("HTTPS_PROXY", "http://upper:1", 1);
    ::setenv("https_proxy", "http://lower:2", 1);
    ::setenv("NO_PROXY", "internal", 1);
    ::unsetenv("no_proxy");
    auto p = transport::proxy_settings::from_environment();
    ::unsetenv("HTTPS_PROXY");
    ::unsetenv("https_proxy");
    ::unsetenv("NO_PROXY");
    CHECK(p.https_proxy == "http://lower:2");
    CHECK(p.no_proxy == "internal");
}
