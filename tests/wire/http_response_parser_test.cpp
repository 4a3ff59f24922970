// The HTTP/1.1 response parser: every message parsed whole and cut at every offset must give
// the same status, headers and body, or the same error.
#include <llm/http/response_parser.hpp>

#include <support/fixtures.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace llm::http;

namespace {

struct outcome {
    response message;
    std::error_code error;
    bool done = false;
    bool keep_alive = false;
    std::size_t head_callbacks = 0;
    std::size_t leftover = 0; // bytes after the end of the response

    friend bool operator==(const outcome& a, const outcome& b)
    {
        return a.message.status == b.message.status && a.message.headers.fields == b.message.headers.fields &&
               a.message.body == b.message.body && a.error == b.error && a.done == b.done &&
               a.keep_alive == b.keep_alive && a.head_callbacks == b.head_callbacks && a.leftover == b.leftover;
    }
};

struct recording_sink : buffered_response {
    std::size_t heads = 0;
    void on_headers(int status, headers&& h)
    {
        ++heads;
        buffered_response::on_headers(status, std::move(h));
    }
};

// Parses `wire` cut at `cuts`, then signals the end of the connection if `eof`.
outcome parse(std::string_view wire, const std::vector<std::size_t>& cuts, bool eof = true,
              response_parser::limits limits = {})
{
    response_parser p(limits);
    recording_sink sink;
    outcome out;
    std::size_t from = 0;
    auto feed = [&](std::string_view piece) {
        if (out.error || p.done()) {
            out.leftover += piece.size();
            return;
        }
        const auto used = p.put(piece, sink, out.error);
        out.leftover += piece.size() - used;
    };
    for (std::size_t cut : cuts) {
        feed(wire.substr(from, cut - from));
        from = cut;
    }
    feed(wire.substr(from));
    if (eof && !out.error && !p.done())
        p.finish(sink, out.error);
    if (out.error)
        out.leftover = 0; // after an error the parser is finished: what it consumed means nothing
    out.message = sink.response;
    out.done = p.done();
    out.keep_alive = p.keep_alive();
    out.head_callbacks = sink.heads;
    return out;
}

outcome whole(std::string_view wire, bool eof = true, response_parser::limits limits = {})
{
    return parse(wire, {}, eof, limits);
}

// Beast's "parsegrind": the same outcome at every single cut, and byte by byte.
void require_same_at_every_cut(std::string_view wire, bool eof = true, response_parser::limits limits = {})
{
    const auto reference = whole(wire, eof, limits);
    for (std::size_t cut = 1; cut < wire.size(); ++cut) {
        INFO("cut at " << cut);
        REQUIRE(parse(wire, {cut}, eof, limits) == reference);
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < wire.size(); ++i)
        every.push_back(i);
    REQUIRE(parse(wire, every, eof, limits) == reference);
}

std::string chunked(std::string_view body, unsigned seed)
{
    std::mt19937 rng(seed);
    std::string out;
    while (!body.empty()) {
        const auto n = std::min<std::size_t>(body.size(), std::uniform_int_distribution<std::size_t>(1, 300)(rng));
        char size[32];
        std::snprintf(size, sizeof size, "%zx", n);
        out.append(size).append("\r\n").append(body.substr(0, n)).append("\r\n");
        body.remove_prefix(n);
    }
    return out + "0\r\n\r\n";
}

} // namespace

TEST_CASE("a Content-Length response, whole and at every cut", "[wire][http]")
{
    const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                             "X-Request-Id: abc\r\n\r\n{\"ok\":true}";
    auto r = whole(wire, false);
    CHECK_FALSE(r.error);
    CHECK(r.done);
    CHECK(r.keep_alive);
    CHECK(r.message.status == 200);
    CHECK(r.message.body == R"({"ok":true})");
    CHECK(*r.message.headers.find("content-type") == "application/json");
    CHECK(*r.message.headers.find("X-REQUEST-ID") == "abc");
    require_same_at_every_cut(wire, false);
}

TEST_CASE("bytes after the end of a response are left to the caller", "[wire][http]")
{
    auto r = whole("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200", false);
    CHECK(r.done);
    CHECK(r.message.body == "hi");
    CHECK(r.leftover == 12);
}

TEST_CASE("a chunked body with extensions and trailers, at every cut", "[wire][http]")
{
    const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5;name=value\r\nhello\r\n7 ; other\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n";
    auto r = whole(wire, false);
    CHECK_FALSE(r.error);
    CHECK(r.done);
    CHECK(r.keep_alive);
    CHECK(r.message.body == "hello, world");
    require_same_at_every_cut(wire, false);

    response_parser p;
    buffered_response sink;
    std::error_code ec;
    p.put(wire, sink, ec);
    REQUIRE(p.trailers().find("x-trailer"));
    CHECK(*p.trailers().find("x-trailer") == "yes");
}

TEST_CASE("a body without length runs until the connection closes", "[wire][http]")
{
    const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\ndata: 2\n\n";
    auto open = whole(wire, false);
    CHECK_FALSE(open.done); // still waiting for more
    auto closed = whole(wire, true);
    CHECK(closed.done);
    CHECK_FALSE(closed.error);
    CHECK_FALSE(closed.keep_alive);
    CHECK(closed.message.body == "data: 1\n\ndata: 2\n\n");
    require_same_at_every_cut(wire, true);
}

TEST_CASE("interim 1xx responses are skipped", "[wire][http]")
{
    const std::string wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                             "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    auto r = whole(wire, false);
    CHECK(r.done);
    CHECK(r.message.status == 201);
    CHECK(r.head_callbacks == 1);
    CHECK_FALSE(r.message.headers.find("link"));
    require_same_at_every_cut(wire, false);
}

TEST_CASE("empty lines before a status line are skipped, within the header limit", "[wire][http]")
{
    const std::string wire = "\r\n\nHTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    auto r = whole(wire, false);
    CHECK(r.done);
    CHECK(r.message.status == 200);
    CHECK(r.message.body == "ok");
    require_same_at_every_cut(wire, false);

    std::string flood;
    for (int i = 0; i < 40 * 1024; ++i)
        flood += "\r\n";
    CHECK(whole(flood + "HTTP/1.1 200 OK\r\n\r\n").error == errc::header_limit);
}

TEST_CASE("204, 304 and answers to HEAD have no body", "[wire][http]")
{
    CHECK(whole("HTTP/1.1 204 No Content\r\n\r\n", false).done);
    CHECK(whole("HTTP/1.1 304 Not Modified\r\nContent-Length: 40\r\n\r\n", false).done);

    response_parser head;
    head.expect_no_body();
    buffered_response sink;
    std::error_code ec;
    head.put("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", sink, ec);
    CHECK(head.done());
    CHECK(head.keep_alive());
}

TEST_CASE("Connection headers and the HTTP version decide whether the connection is reused", "[wire][http]")
{
    CHECK_FALSE(whole("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
    CHECK(whole("HTTP/1.1 200 OK\r\nConnection: Upgrade, Keep-Alive\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
    CHECK_FALSE(whole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
    CHECK(whole("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false).keep_alive);
    // Both framings at once: Transfer-Encoding wins, and the connection is not trusted again.
    auto both =
        whole("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false);
    CHECK(both.message.body == "ok");
    CHECK_FALSE(both.keep_alive);
}

TEST_CASE("repeated headers are all kept, in order", "[wire][http]")
{
    auto r = whole("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n", false);
    REQUIRE(r.message.headers.fields.size() == 3);
    CHECK(r.message.headers.fields[0].second == "a=1");
    CHECK(r.message.headers.fields[1].second == "b=2");
}

TEST_CASE("a folded header line continues the value with one space", "[wire][http]")
{
    const std::string wire = "HTTP/1.1 200 OK\r\nX-Long: first\r\n  second\r\n\tthird\r\nContent-Length: 0\r\n\r\n";
    auto r = whole(wire, false);
    REQUIRE(r.done);
    CHECK(*r.message.headers.find("x-long") == "first second third");
    require_same_at_every_cut(wire, false);
}

TEST_CASE("bare LF line endings are accepted in the head", "[wire][http]")
{
    auto r = whole("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false);
    CHECK(r.done);
    CHECK(r.message.body == "ok");
}

TEST_CASE("chunked framing needs CRLF: a bare LF after a chunk size, its data or a trailer is refused", "[wire][http]")
{
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(whole(head + "2\nok\r\n0\r\n\r\n").error == errc::bad_chunk);
    CHECK(whole(head + "2\r\nok\n0\r\n\r\n").error == errc::bad_chunk);
    CHECK(whole(head + "2\r\nok\r\n0\r\nX-Trailer: 1\n\r\n").error == errc::bad_chunk);
    CHECK(whole(head + "2\r\nok\r\n0\r\n\n").error == errc::bad_chunk);
    // A CR that is the chunk's last byte is data: it does not end the line after it.
    CHECK(whole(head + "3\r\nok\r\n0\r\n\r\n").error == errc::bad_chunk);
    require_same_at_every_cut(head + "3\r\nok\r\n0\r\n\r\n");
    auto fine = whole(head + "3\r\nok\r\r\n0\r\n\r\n");
    CHECK(fine.done);
    CHECK(fine.message.body == "ok\r");
}

TEST_CASE("malformed responses fail with their own error, the same at every cut", "[wire][http]")
{
    struct bad {
        std::string wire;
        errc expected;
    };
    const std::vector<bad> cases{
        {"HTTP/2 200 OK\r\n\r\n", errc::bad_status_line},
        {"HTTP/1.1 20 OK\r\n\r\n", errc::bad_status_line},
        {"HTTP/1.1 2x0 OK\r\n\r\n", errc::bad_status_line},
        {"HTTP/1.1 200OK\r\n\r\n", errc::bad_status_line},
        {"ICY 200 OK\r\n\r\n", errc::bad_status_line},
        {"HTTP/1.1 099 Low\r\n\r\n", errc::bad_status_line},
        {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", errc::bad_header},
        {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", errc::bad_header},
        {"HTTP/1.1 200 OK\r\nName : x\r\n\r\n", errc::bad_header},
        {"HTTP/1.1 200 OK\r\n folded first\r\n\r\n", errc::bad_header},
        {std::string("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", 27), errc::bad_header},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", errc::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", errc::bad_content_length},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", errc::bad_chunk},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n", errc::bad_chunk},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", errc::chunk_size_overflow},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", errc::truncated},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", errc::truncated},
        {"HTTP/1.1 200 OK\r\nContent-Le", errc::truncated},
        {"", errc::truncated},
    };
    for (const auto& c : cases) {
        INFO("response: " << c.wire);
        const auto r = whole(c.wire);
        CHECK(r.error == c.expected);
        require_same_at_every_cut(c.wire);
    }
}

TEST_CASE("each limit has a default and its own error", "[wire][http]")
{
    const response_parser::limits defaults;
    CHECK(defaults.header_bytes == 64 * 1024);
    CHECK(defaults.body_bytes == 64u * 1024 * 1024);

    const std::string big_header = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'x') + "\r\n\r\n";
    CHECK(whole(big_header).error == errc::header_limit);

    std::string many = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 300; ++i)
        many += "X-" + std::to_string(i) + ": v\r\n";
    CHECK(whole(many + "\r\n").error == errc::header_count_limit);

    response_parser::limits small{.body_bytes = 10};
    CHECK(whole("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", false, small).error == errc::body_limit);
    CHECK(whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n6\r\n123456\r\n0\r\n\r\n", false,
                small)
              .error == errc::body_limit);
    const std::string endless = "HTTP/1.1 200 OK\r\n\r\n" + std::string(11, 'x');
    CHECK(whole(endless, false, small).error == errc::body_limit);
    require_same_at_every_cut(endless, false, small);
    CHECK(std::error_code(errc::body_limit) == std::errc::message_size);
    CHECK_THAT(std::error_code(errc::body_limit).message(), Catch::Contains("body_bytes"));
}

TEST_CASE("every recorded provider body survives chunked framing in random pieces", "[wire][http][fixtures]")
{
    for (const auto& path : llm::test::recorded_bodies()) {
        INFO("fixture " << path.filename().string());
        const std::string body = llm::test::read_file(path);
        for (unsigned seed = 1; seed <= 3; ++seed) {
            const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(body, seed);
            std::mt19937 rng(seed);
            std::vector<std::size_t> cuts;
            for (std::size_t at = 0;;) {
                at += std::uniform_int_distribution<std::size_t>(1, 700)(rng);
                if (at >= wire.size())
                    break;
                cuts.push_back(at);
            }
            const auto r = parse(wire, cuts, false);
            REQUIRE_FALSE(r.error);
            CHECK(r.done);
            CHECK(r.message.body == body);
        }
    }
}
