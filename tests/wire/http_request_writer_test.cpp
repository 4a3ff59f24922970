// URLs and the request writer: what goes on the wire, and what is refused before it does.
#include <llm/http/request_writer.hpp>

#include <catch2/catch.hpp>

using namespace llm::http;

namespace {

url must_parse(std::string_view text)
{
    std::error_code ec;
    auto u = parse_url(text, ec);
    INFO("url " << text);
    REQUIRE(u);
    CHECK_FALSE(ec);
    return *u;
}

std::error_code refusal(std::string_view text)
{
    std::error_code ec;
    auto u = parse_url(text, ec);
    CHECK_FALSE(u);
    return ec;
}

} // namespace

TEST_CASE("absolute URLs are split into scheme, host, port and target", "[wire][http][url]")
{
    CHECK(must_parse("https://api.openai.com/v1/chat/completions") ==
          url{"https", "api.openai.com", 443, "/v1/chat/completions"});
    CHECK(must_parse("http://localhost:11434/api/chat") == url{"http", "localhost", 11434, "/api/chat"});
    CHECK(must_parse("HTTPS://Example.com") == url{"https", "Example.com", 443, "/"});
    CHECK(must_parse("http://h?alt=sse") == url{"http", "h", 80, "/?alt=sse"});
    CHECK(must_parse("http://h/p?q=1#fragment") == url{"http", "h", 80, "/p?q=1"});
    CHECK(must_parse("http://[::1]:8080/x") == url{"http", "::1", 8080, "/x"});
    CHECK(must_parse("https://[2001:db8::1]/") == url{"https", "2001:db8::1", 443, "/"});
}

TEST_CASE("the Host header names the port only when it is not the default", "[wire][http][url]")
{
    CHECK(must_parse("https://api.anthropic.com/v1/messages").authority() == "api.anthropic.com");
    CHECK(must_parse("http://127.0.0.1:8080/").authority() == "127.0.0.1:8080");
    CHECK(must_parse("http://[::1]:9/").authority() == "[::1]:9");
    CHECK(must_parse("https://h:80/").authority() == "h:80");
}

TEST_CASE("URLs that are not absolute http(s) URLs, or carry credentials, are refused", "[wire][http][url]")
{
    for (auto bad : {"", "api.openai.com/v1", "ftp://h/", "http://", "http:///path", "http://user:secret@h/",
                     "http://h:0/", "http://h:65536/", "http://h:12ab/", "http://h/a b", "http://h/\r\nX: y",
                     "http://::1/", "http://[::1/", "http://[::1]x/"}) {
        INFO("url " << bad);
        CHECK(refusal(bad) == errc::bad_url);
    }
}

TEST_CASE("a request is written with Host, its headers in order, Content-Length and the body", "[wire][http]")
{
    request r{.method = "POST", .url = "https://api.openai.com/v1/chat/completions", .body = R"({"model":"x"})"};
    r.headers.add("Authorization", "Bearer sk-test");
    r.headers.add("Content-Type", "application/json");
    std::string out = "kept:";
    REQUIRE_FALSE(write_request(r, out));
    CHECK(out == "kept:POST /v1/chat/completions HTTP/1.1\r\n"
                 "Host: api.openai.com\r\n"
                 "Authorization: Bearer sk-test\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: 13\r\n"
                 "\r\n"
                 R"({"model":"x"})");
}

TEST_CASE("a GET without a body carries no Content-Length; given Host and lengths are not doubled", "[wire][http]")
{
    std::string get;
    REQUIRE_FALSE(write_request(request{.method = "GET", .url = "http://127.0.0.1:8080/v1/models"}, get));
    CHECK(get == "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");

    request r{.url = "http://h/", .body = "abc"};
    r.headers.add("host", "other");
    r.headers.add("content-length", "3");
    std::string out;
    REQUIRE_FALSE(write_request(r, out));
    CHECK(out == "POST / HTTP/1.1\r\nhost: other\r\ncontent-length: 3\r\n\r\nabc");
}

TEST_CASE("header injection is refused before anything is written", "[wire][http]")
{
    auto refused = [](request r) {
        std::string out = "untouched";
        const auto ec = write_request(r, out);
        CHECK(out == "untouched");
        return ec;
    };
    request base{.url = "http://h/"};

    auto value = base;
    value.headers.add("X-Note", "a\r\nX-Injected: yes");
    CHECK(refused(value) == errc::invalid_request);

    auto lf = base;
    lf.headers.add("X-Note", "a\nb");
    CHECK(refused(lf) == errc::invalid_request);

    auto nul = base;
    nul.headers.add("X-Note", std::string("a\0b", 3));
    CHECK(refused(nul) == errc::invalid_request);

    auto name = base;
    name.headers.add("X-Bad Name", "v");
    CHECK(refused(name) == errc::invalid_request);

    auto method = base;
    method.method = "POST /evil HTTP/1.1\r\n";
    CHECK(refused(method) == errc::invalid_request);

    auto target = base;
    target.url = "http://h/a\r\nX: y";
    CHECK(refused(target) == errc::bad_url);

    CHECK_THAT(std::error_code(errc::invalid_request).message(), Catch::Contains("header injection"));
}

TEST_CASE("the request writer's errors never echo header values, which may hold keys", "[wire][http]")
{
    request r{.url = "http://h/"};
    r.headers.add("Authorization", "Bearer sk-secret\r\n");
    std::string out;
    const auto ec = write_request(r, out);
    REQUIRE(ec);
    CHECK(ec.message().find("sk-secret") == std::string::npos);
}
