// Reading a response as it arrives with transport::https::response_stream.
#include <llm/detail/hook.hpp>
#include <llm/transport/https.hpp>

#include <support/https_client.hpp>
#include <support/loopback_server.hpp>
#include <support/printers.hpp>
#include <support/run.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace llm;
using namespace std::chrono_literals;
using test::loopback_server;
namespace act = test::server_action;

namespace {

using test::get;

transport::https_options quick()
{
    return test::quick_https_options();
}

// The stream's two operations, as awaitables.
asio::awaitable<result<http::response>> head_of(transport::https::response_stream& s)
{
    co_return co_await detail::await_operation<result<http::response>>(
        [&](auto h) { s.async_read_head(std::move(h)); });
}

asio::awaitable<result<std::optional<std::string>>> piece_of(transport::https::response_stream& s)
{
    co_return co_await detail::await_operation<result<std::optional<std::string>>>(
        [&](auto h) { s.async_read_some(std::move(h)); });
}

// Reads head and body; returns the status, the pieces, and the error that ended it.
struct read_out {
    int status = 0;
    std::vector<std::string> pieces;
    std::optional<error> failure;
};

asio::awaitable<read_out> read_all(transport::https::response_stream& s)
{
    read_out out;
    auto head = co_await head_of(s);
    if (!head) {
        out.failure = head.error();
        co_return out;
    }
    out.status = head.value().status;
    while (true) {
        auto piece = co_await piece_of(s);
        if (!piece) {
            out.failure = piece.error();
            co_return out;
        }
        if (!piece.value())
            co_return out;
        out.pieces.push_back(*piece.value());
    }
}

} // namespace

TEST_CASE("a streamed body arrives piece by piece as the server sends it", "[transport][stream]")
{
    loopback_server server;
    server.then(test::chunked(200, {"data: 1\n\n", "data: 2\n\n", "data: 3\n\n"}, 30ms));
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());
    auto s = wire.open(get(server.url()));

    auto out = test::run(io, read_all(s));
    REQUIRE(out);
    CHECK_FALSE(out->failure);
    CHECK(out->status == 200);
    CHECK(out->pieces.size() >= 3); // not buffered until the end
    std::string body;
    for (const auto& p : out->pieces)
        body += p;
    CHECK(body == "data: 1\n\ndata: 2\n\ndata: 3\n\n");
    CHECK(wire.idle_connections(server.url()) == 1); // back in the pool after the end
}

TEST_CASE("an error status is a head like any other; its body can be read", "[transport][stream]")
{
    loopback_server server;
    server.then(test::answer(429, R"({"error":"slow down"})", "Retry-After: 3\r\n"));
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());
    auto s = wire.open(get(server.url()));

    auto out = test::run(io, read_all(s));
    REQUIRE(out);
    CHECK(out->status == 429);
    REQUIRE(out->pieces.size() == 1);
    CHECK(out->pieces[0] == R"({"error":"slow down"})");
}

TEST_CASE("cancelling a response stream closes the connection at once", "[transport][stream][cancel]")
{
    loopback_server server;
    server.then(test::first_event_then_stall());
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());
    auto s = wire.open(get(server.url()));

    auto head = test::run(io, head_of(s));
    REQUIRE(head);
    REQUIRE(*head);
    auto first = test::run(io, piece_of(s));
    REQUIRE(first);
    REQUIRE(*first);

    std::optional<result<std::optional<std::string>>> pending;
    s.async_read_some([&](result<std::optional<std::string>> r) { pending.emplace(std::move(r)); });
    io.restart();
    io.run_for(30ms);
    REQUIRE_FALSE(pending);

    const auto cancelled_at = std::chrono::steady_clock::now();
    s.cancel();
    io.restart();
    io.run_for(2s);
    REQUIRE(pending);
    REQUIRE_FALSE(*pending);
    CHECK(pending->error() == errc::cancelled);

    REQUIRE(server.wait_for_client_closes(1));
    CHECK(server.last_client_close() - cancelled_at < 50ms);
    CHECK(wire.idle_connections(server.url()) == 0);

    // Later reads keep saying so, without touching the closed connection.
    auto after = test::run(io, piece_of(s));
    REQUIRE(after);
    CHECK(after->error() == errc::cancelled);
}

TEST_CASE("dropping a response stream mid-body closes its connection instead of pooling it", "[transport][stream]")
{
    loopback_server server;
    server.then(test::chunked(200, {"a", "b", "c"}, 200ms));
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());
    {
        auto s = wire.open(get(server.url()));
        auto head = test::run(io, head_of(s));
        REQUIRE(head);
        REQUIRE(*head);
    }
    io.restart();
    io.run_for(50ms);
    CHECK(wire.idle_connections(server.url()) == 0);
    CHECK(server.wait_for_client_closes(1));
}

TEST_CASE("a body that fails mid-way reports its error on this and every later read", "[transport][stream]")
{
    loopback_server server;
    server.then({act::send{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + test::chunk_of("part")},
                 act::wait{20ms}, act::reset{}});
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());
    auto s = wire.open(get(server.url()));

    auto out = test::run(io, read_all(s));
    REQUIRE(out);
    REQUIRE(out->failure);
    CHECK(*out->failure == errc::provider_unavailable);
    auto again = test::run(io, piece_of(s));
    REQUIRE(again);
    REQUIRE_FALSE(*again);
    CHECK(again->error() == errc::provider_unavailable);
}

TEST_CASE("reading the body before the head is refused as misuse", "[transport][stream]")
{
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());
    auto s = wire.open(get("http://127.0.0.1:1/"));
    auto r = test::run(io, piece_of(s));
    REQUIRE(r);
    REQUIRE_FALSE(*r);
    CHECK(r->error() == errc::bad_request);
}
