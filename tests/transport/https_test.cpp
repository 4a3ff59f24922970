// llm::transport::https against a real loopback server: real sockets, real TLS, every test
// bounded in time.
#include <llm/transport/https.hpp>

#include <support/https_client.hpp>

#include <support/loopback_server.hpp>
#include <support/printers.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <catch2/catch.hpp>

#include <future>

using namespace llm;
using namespace std::chrono_literals;
using test::loopback_server;
namespace act = test::server_action;

namespace {

using test::get;
using test::send;

transport::https_options quick()
{
    return test::quick_https_options();
}

// The tests that drive pooling, deadlines and cancellation run both ways: each exchange on a
// strand of its own (the default), and on the transport's executor (single_threaded).
transport::https_options quick_either_way()
{
    auto options = quick();
    options.single_threaded = GENERATE(false, true);
    return options;
}

// A loopback server and a transport to it. When `kept`, one request has gone already, so the
// next goes on the connection it left in the pool (async_send's callback path) rather than on a
// fresh one (its coroutines). Script the server's answers to the requests under test after.
struct warmed_up {
    warmed_up(bool kept, const transport::https_options& options) : wire(io.get_executor(), options)
    {
        if (!kept)
            return;
        server.then(test::answer(200, "warm-up"));
        REQUIRE(send(wire, io, get(server.url())));
        REQUIRE(wire.idle_connections(server.url()) == 1);
        io.restart(); // run() returned for want of work: the test may run it again
    }

    loopback_server server;
    asio::io_context io;
    transport::https wire;
};

// Whether wait() returns within 5 s. If it does not, stop() makes it return, so that the test
// ends (failed) instead of hanging.
template <class Wait, class Stop>
bool returns_within_5s(Wait wait, Stop stop)
{
    auto waiting = std::async(std::launch::async, std::move(wait));
    const bool returned = waiting.wait_for(5s) == std::future_status::ready;
    if (!returned)
        stop();
    return returned;
}

} // namespace

TEST_CASE("a request goes out with Host and Content-Length, and the response comes back whole", "[transport][https]")
{
    loopback_server server;
    server.then(test::answer(200, R"({"ok":true})", "Content-Type: application/json\r\n"));
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());

    http::request post{.url = server.url("/v1/chat"), .body = R"({"q":1})"};
    post.headers.add("Content-Type", "application/json");
    auto r = send(wire, io, post);

    REQUIRE(r);
    CHECK(r.value().status == 200);
    CHECK(r.value().body == R"({"ok":true})");
    CHECK(*r.value().headers.find("content-type") == "application/json");
    auto seen = server.received();
    REQUIRE(seen.size() == 1);
    CHECK_THAT(seen[0].head, Catch::StartsWith("POST /v1/chat HTTP/1.1\r\nHost: 127.0.0.1:"));
    CHECK_THAT(seen[0].head, Catch::Contains("Content-Length: 7\r\n"));
    CHECK(seen[0].body == R"({"q":1})");
}

TEST_CASE("keep-alive connections are reused from the pool", "[transport][https][pool]")
{
    loopback_server server;
    server.otherwise(test::answer(200, "same"));
    asio::io_context io;
    transport::https wire(io.get_executor(), quick_either_way());

    for (int i = 0; i < 3; ++i)
        REQUIRE(send(wire, io, get(server.url())));
    CHECK(server.connections_accepted() == 1);
    CHECK(wire.idle_connections(server.url()) == 1);
}

TEST_CASE("Connection: close is honoured: the next request opens a new connection", "[transport][https][pool]")
{
    loopback_server server;
    server.otherwise(test::answer(200, "bye", "Connection: close\r\n"));
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());

    REQUIRE(send(wire, io, get(server.url())));
    REQUIRE(send(wire, io, get(server.url())));
    CHECK(server.connections_accepted() == 2);
}

TEST_CASE("a pooled connection the server closed while idle is not used again", "[transport][https][pool]")
{
    loopback_server server;
    auto answer_then_close = test::answer(200, "first");
    answer_then_close.push_back(act::wait{20ms});
    answer_then_close.push_back(act::close{});
    server.then(answer_then_close).then(test::answer(200, "second"));
    asio::io_context io;
    auto options = quick();
    // Checked before reuse (a peek finds it closed), or sent on at once (the send fails
    // before any answer, and goes again on a fresh connection): recovered either way.
    options.check_idle_after = GENERATE(0ms, 1h);
    INFO("check_idle_after: " << options.check_idle_after.count() << " ms");
    transport::https wire(io.get_executor(), options);

    REQUIRE(send(wire, io, get(server.url())));
    std::this_thread::sleep_for(100ms); // let the server's close arrive
    auto second = send(wire, io, get(server.url()));
    REQUIRE(second);
    CHECK(second.value().body == "second");
    CHECK(server.connections_accepted() == 2);
}

TEST_CASE("a request that fails on a reused connection before any answer is sent again on a fresh one",
          "[transport][https][pool]")
{
    loopback_server server;
    // The server reads the second request on the kept connection, then closes without answering:
    // the race where a server times out an idle connection just as the client sends on it.
    server.then(test::answer(200, "first")).then({act::close{}}).then(test::answer(200, "retried"));
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());

    REQUIRE(send(wire, io, get(server.url())));
    auto second = send(wire, io, get(server.url()));
    REQUIRE(second);
    CHECK(second.value().body == "retried");
    CHECK(server.received().size() == 3);
    CHECK(server.connections_accepted() == 2);
}

TEST_CASE("a reused connection that fails once the answer began is not sent on again", "[transport][https][pool]")
{
    warmed_up w(true, quick_either_way());
    w.server.then({act::send{"HTTP/1.1 200 OK\r\nContent-Le"}, act::close{}});

    auto r = send(w.wire, w.io, get(w.server.url()));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::provider_unavailable);
    CHECK(w.server.received().size() == 2); // the request was not repeated
    CHECK(w.server.connections_accepted() == 1);
    CHECK(w.wire.idle_connections(w.server.url()) == 0);
}

TEST_CASE("the handler runs on its own executor, after a fresh connection or a kept one", "[transport][https]")
{
    const bool kept = GENERATE(false, true);
    INFO("on a kept-alive connection: " << kept);
    warmed_up w(kept, quick_either_way());
    w.server.then(test::answer(200, "here"));

    auto handler_strand = asio::make_strand(w.io);
    std::optional<result<http::response>> got;
    bool on_its_strand = false;
    w.wire.async_send(get(w.server.url()), asio::bind_executor(handler_strand, [&](result<http::response> r) {
                          on_its_strand = handler_strand.running_in_this_thread();
                          got.emplace(std::move(r));
                      }));
    CHECK_FALSE(got); // never from within async_send
    w.io.restart();
    w.io.run_for(5s);
    REQUIRE(got);
    REQUIRE(*got);
    CHECK(got->value().body == "here");
    CHECK(on_its_strand);
}

TEST_CASE("connection refused and DNS failure are provider_unavailable, naming the host", "[transport][https][errors]")
{
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());

    std::uint16_t closed_port;
    {
        loopback_server gone;
        closed_port = gone.port();
    }
    auto refused = send(wire, io, get("http://127.0.0.1:" + std::to_string(closed_port) + "/"));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::provider_unavailable);
    CHECK_THAT(refused.error().message, Catch::Contains("could not connect to 127.0.0.1"));

    auto unknown = send(wire, io, get("http://no-such-host.invalid/"));
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error() == errc::provider_unavailable);
    CHECK_THAT(unknown.error().message, Catch::Contains("could not resolve no-such-host.invalid"));
}

TEST_CASE("resets and truncated bodies are failures, never partial successes", "[transport][https][errors]")
{
    loopback_server server;
    server.then({act::reset{}})
        .then({act::send{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"}, act::reset{}})
        .then({act::send{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"}, act::close{}});
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());

    for (const char* what : {"reset before headers", "reset mid-body", "truncated chunked body"}) {
        INFO(what);
        auto r = send(wire, io, get(server.url()));
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::provider_unavailable);
    }
}

TEST_CASE("a server that never answers trips the first-byte timeout", "[transport][https][timeout]")
{
    const bool kept = GENERATE(false, true);
    INFO("on a kept-alive connection: " << kept);
    auto options = quick();
    options.first_byte_timeout = 150ms;
    warmed_up w(kept, options);
    w.server.then({act::stall{}});

    auto r = send(w.wire, w.io, get(w.server.url()));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::timeout);
    CHECK_THAT(r.error().message, Catch::Contains("first byte"));
    CHECK(w.server.connections_accepted() == 1); // a deadline is not a reason to try again
}

TEST_CASE("a stream that stalls mid-body trips the idle timeout", "[transport][https][timeout]")
{
    const bool kept = GENERATE(false, true);
    INFO("on a kept-alive connection: " << kept);
    auto options = quick_either_way();
    options.idle_timeout = 150ms;
    warmed_up w(kept, options);
    w.server.then(test::first_event_then_stall());

    auto r = send(w.wire, w.io, get(w.server.url()));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::timeout);
    CHECK_THAT(r.error().message, Catch::Contains("idle stream"));
}

TEST_CASE("the total deadline bounds a response that keeps dripping", "[transport][https][timeout]")
{
    loopback_server server;
    server.then({act::send{"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"}, act::drip{std::string(1000, 'x'), 5ms}});
    asio::io_context io;
    auto options = quick();
    options.total_timeout = 200ms;
    transport::https wire(io.get_executor(), options);

    auto r = send(wire, io, get(server.url()));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::timeout);
    CHECK_THAT(r.error().message, Catch::Contains("total timeout"));
}

TEST_CASE("a slow drip within the idle limit succeeds", "[transport][https][timeout]")
{
    loopback_server server;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n";
    server.then({act::drip{head + "abcdefghijklmnopqrst", 2ms}});
    asio::io_context io;
    auto options = quick();
    options.idle_timeout = 500ms;
    transport::https wire(io.get_executor(), options);

    auto r = send(wire, io, get(server.url()));
    REQUIRE(r);
    CHECK(r.value().body == "abcdefghijklmnopqrst");
}

// The transport's one deadline timer stays armed between requests; run() must not wait for it.
TEST_CASE("deadlines minutes away do not keep io_context::run() from returning", "[transport][https][timeout]")
{
    loopback_server server;
    server.otherwise(test::answer(200, "ok"));
    asio::io_context io;
    auto options = quick_either_way();
    options.first_byte_timeout = options.idle_timeout = 10min;
    options.total_timeout = 20min;
    transport::https wire(io.get_executor(), options);

    for (int i = 0; i < 3; ++i) {
        std::optional<result<http::response>> got;
        wire.async_send(get(server.url()), [&](result<http::response> r) { got.emplace(std::move(r)); });
        io.restart();
        REQUIRE(returns_within_5s([&] { io.run(); }, [&] { io.stop(); }));
        REQUIRE(got);
        CHECK(*got);
    }
}

TEST_CASE("a deadline earlier than every other one still fires on time", "[transport][https][timeout]")
{
    // A stalls mid-body under a long idle deadline; B, sent after, stalls before its first byte
    // under a short one: B must time out first, without waiting for A's deadline.
    loopback_server server;
    server.then(test::first_event_then_stall()).then({act::stall{}});
    asio::io_context io;
    auto options = quick_either_way();
    options.first_byte_timeout = 100ms;
    options.connect_timeout = options.idle_timeout = 30s; // what the timer sleeps towards
    options.total_timeout = 60s;
    transport::https wire(io.get_executor(), options);

    asio::cancellation_signal cancel_a;
    std::vector<std::string> finished;
    std::optional<result<http::response>> a, b;
    wire.async_send(get(server.url("/a")), asio::bind_cancellation_slot(cancel_a.slot(), [&](result<http::response> r) {
                        finished.push_back("a");
                        a.emplace(std::move(r));
                    }));
    asio::steady_timer later(io, 300ms); // A is past its first byte by then
    later.async_wait([&](std::error_code) {
        wire.async_send(get(server.url("/b")), [&](result<http::response> r) {
            finished.push_back("b");
            b.emplace(std::move(r));
            cancel_a.emit(asio::cancellation_type::terminal);
        });
    });
    io.run_for(10s);

    REQUIRE(b);
    REQUIRE_FALSE(*b);
    CHECK(b->error() == errc::timeout);
    CHECK_THAT(b->error().message, Catch::Contains("first byte"));
    REQUIRE(a);
    CHECK(a->error() == errc::cancelled); // still waiting when B timed out
    const std::vector<std::string> b_then_a{"b", "a"};
    CHECK(finished == b_then_a);
}

TEST_CASE("deadlines work on an executor that is not an io_context's, and never hold its threads",
          "[transport][https][timeout]")
{
    loopback_server server;
    server.then({act::stall{}}).otherwise(test::answer(200, "ok"));
    // Sends one request on a thread pool's transport, then joins the pool within 5 s.
    const auto one_request_then_join = [&](transport::https_options options) {
        asio::thread_pool threads(2);
        std::promise<result<http::response>> answer;
        transport::https wire(threads.get_executor(), options);
        wire.async_send(get(server.url()), [&](result<http::response> r) { answer.set_value(std::move(r)); });
        auto got = answer.get_future();
        REQUIRE(got.wait_for(5s) == std::future_status::ready);
        CHECK(returns_within_5s([&] { threads.join(); }, [&] { threads.stop(); }));
        return got.get();
    };

    auto options = quick();
    options.first_byte_timeout = 100ms;
    auto stalled = one_request_then_join(options);
    REQUIRE_FALSE(stalled);
    CHECK(stalled.error() == errc::timeout);

    // Answered long before its deadlines: the timer waiting for them is cancelled, so join() returns.
    options.connect_timeout = options.first_byte_timeout = options.idle_timeout = 10min;
    options.total_timeout = 20min;
    CHECK(one_request_then_join(options));
}

TEST_CASE("oversized headers, oversized bodies and invalid status lines are malformed responses",
          "[transport][https][errors]")
{
    loopback_server server;
    server.then({act::send{"HTTP/1.1 200 OK\r\nX-Big: " + std::string(2000, 'x') + "\r\n\r\n"}})
        .then(test::answer(200, std::string(2000, 'y')))
        .then({act::send{"SPDY/9 200 OK\r\n\r\n"}});
    asio::io_context io;
    auto options = quick();
    options.limits.header_bytes = 1024;
    options.limits.body_bytes = 1024;
    transport::https wire(io.get_executor(), options);

    for (const char* expected : {"header_bytes", "body_bytes", "status line"}) {
        auto r = send(wire, io, get(server.url()));
        REQUIRE_FALSE(r);
        CHECK(r.error() == errc::malformed_response);
        CHECK_THAT(r.error().message, Catch::Contains(expected));
    }
}

TEST_CASE("header injection is refused before anything is sent, and errors never show header values",
          "[transport][https][errors]")
{
    loopback_server server;
    asio::io_context io;
    transport::https wire(io.get_executor(), quick());

    auto injected = get(server.url());
    injected.headers.add("Authorization", "Bearer sk-live-secret\r\nX-Evil: 1");
    auto r = send(wire, io, injected);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::bad_request);
    CHECK(r.error().describe().find("sk-live-secret") == std::string::npos);
    CHECK(server.connections_accepted() == 0);

    auto unreachable = get("http://no-such-host.invalid/");
    unreachable.headers.add("Authorization", "Bearer sk-live-secret");
    auto failed = send(wire, io, unreachable);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().describe().find("sk-live-secret") == std::string::npos);
}

TEST_CASE("TLS: a certificate from the configured CA is accepted", "[transport][https][tls]")
{
    loopback_server server(test::tls_certificate::localhost);
    server.then(test::answer(200, "secure"));
    asio::io_context io;
    auto options = quick();
    options.ca_file = test::test_certificates::get().ca_file.string();
    transport::https wire(io.get_executor(), options);

    auto by_address = send(wire, io, get(server.url()));
    REQUIRE(by_address);
    CHECK(by_address.value().body == "secure");

    server.then(test::answer(200, "by name"));
    auto by_name = send(wire, io, get("https://localhost:" + std::to_string(server.port()) + "/"));
    REQUIRE(by_name);
    CHECK(by_name.value().body == "by name");
}

TEST_CASE("TLS: a wrong host name or an untrusted certificate is refused by default", "[transport][https][tls]")
{
    asio::io_context io;
    auto options = quick();
    options.ca_file = test::test_certificates::get().ca_file.string();
    transport::https wire(io.get_executor(), options);

    loopback_server wrong_host(test::tls_certificate::wrong_host);
    auto r1 = send(wire, io, get(wrong_host.url()));
    REQUIRE_FALSE(r1);
    CHECK(r1.error() == errc::tls_verification_failed);
    CHECK(wrong_host.received().empty());

    loopback_server untrusted(test::tls_certificate::untrusted);
    auto r2 = send(wire, io, get(untrusted.url()));
    REQUIRE_FALSE(r2);
    CHECK(r2.error() == errc::tls_verification_failed);

    // The system store does not know the test CA either.
    transport::https system_store(io.get_executor(), quick());
    loopback_server trusted_by_us(test::tls_certificate::localhost);
    auto r3 = send(system_store, io, get(trusted_by_us.url()));
    REQUIRE_FALSE(r3);
    CHECK(r3.error() == errc::tls_verification_failed);
}

TEST_CASE("a CA file that cannot be loaded is a configuration error on every request", "[transport][https][tls]")
{
    asio::io_context io;
    auto options = quick();
    options.ca_file = "/nonexistent/ca.pem";
    transport::https wire(io.get_executor(), options);
    REQUIRE(wire.configuration_error());
    auto r = send(wire, io, get("https://127.0.0.1:1/"));
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_configuration);
    CHECK_THAT(r.error().message, Catch::Contains("/nonexistent/ca.pem"));
}

TEST_CASE("cancelling mid-stream closes the connection at once", "[transport][https][cancel]")
{
    const bool kept = GENERATE(false, true);
    INFO("on a kept-alive connection: " << kept);
    warmed_up w(kept, quick_either_way());
    const auto requests_before = w.server.received().size();
    w.server.then(test::first_event_then_stall());

    asio::cancellation_signal signal;
    std::optional<result<http::response>> got;
    w.wire.async_send(get(w.server.url()), asio::bind_cancellation_slot(signal.slot(), [&](result<http::response> r) {
                          got.emplace(std::move(r));
                      }));
    // Run until the server has sent its first chunk and is stalling.
    const auto bound = std::chrono::steady_clock::now() + 5s;
    while (w.server.received().size() == requests_before && std::chrono::steady_clock::now() < bound)
        w.io.run_for(5ms);
    w.io.run_for(50ms);
    REQUIRE_FALSE(got);

    const auto cancelled_at = std::chrono::steady_clock::now();
    signal.emit(asio::cancellation_type::terminal);
    w.io.restart();
    w.io.run_for(5s);
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error() == errc::cancelled);

    REQUIRE(w.server.wait_for_client_closes(1));
    CHECK(w.server.last_client_close() - cancelled_at < 50ms);
    CHECK(w.wire.idle_connections(w.server.url()) == 0);
}

TEST_CASE("a cancellation that comes between two steps stops the exchange at the next one",
          "[transport][https][cancel]")
{
    const bool kept = GENERATE(false, true);
    INFO("on a kept-alive connection: " << kept);
    warmed_up w(kept, quick_either_way());
    w.server.then(test::first_event_then_stall());

    asio::cancellation_signal signal;
    std::optional<result<http::response>> got;
    w.wire.async_send(get(w.server.url()), asio::bind_cancellation_slot(signal.slot(), [&](result<http::response> r) {
                          got.emplace(std::move(r));
                      }));
    signal.emit(asio::cancellation_type::terminal); // before any of the exchange's operations is pending
    w.io.run_for(5s);
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error() == errc::cancelled); // not the idle timeout, seconds later
    CHECK(w.wire.idle_connections(w.server.url()) == 0);
}

TEST_CASE("a cancellation signal used again after the exchange ended touches nothing of it",
          "[transport][https][cancel]")
{
    const bool kept = GENERATE(false, true);
    INFO("on a kept-alive connection: " << kept);
    warmed_up w(kept, quick_either_way());
    w.server.then(test::answer(200, "done", "Connection: close\r\n")); // its connection is closed and freed

    asio::cancellation_signal signal;
    auto r = test::send(w.wire, w.io, get(w.server.url()), signal.slot());
    REQUIRE(r);
    CHECK(r.value().body == "done");
    signal.emit(asio::cancellation_type::terminal); // under ASan, a hook left behind would be a use after free
    w.io.restart();
    w.io.run_for(10ms);
    CHECK(w.wire.idle_connections(w.server.url()) == 0);
}

TEST_CASE("requests beyond the per-host limit wait for a connection, and all complete", "[transport][https][pool]")
{
    loopback_server server;
    server.otherwise({act::wait{5ms}, act::send{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}});
    asio::io_context io;
    auto options = quick();
    options.max_connections_per_host = 2;
    transport::https wire(io.get_executor(), options);

    int ok = 0;
    for (int i = 0; i < 10; ++i)
        wire.async_send(get(server.url()), [&](result<http::response> r) { ok += r.has_value(); });
    io.run_for(10s);
    CHECK(ok == 10);
    CHECK(server.connections_accepted() <= 2);
}

TEST_CASE("1,000 concurrent requests from 2 threads share one transport with a small pool", "[transport][https][pool]")
{
    loopback_server server;
    server.otherwise(test::answer(200, "pong"));
    asio::thread_pool threads(2);
    auto options = quick();
    options.max_connections_per_host = 8;
    options.total_timeout = 60s;
    // Either each exchange gets a strand of its own, or all share the strand the transport is
    // given, which is what single_threaded promises to be safe with.
    options.single_threaded = GENERATE(false, true);
    INFO("single_threaded, on a strand: " << options.single_threaded);
    transport::https wire(options.single_threaded ? asio::any_io_executor(asio::make_strand(threads.get_executor()))
                                                  : asio::any_io_executor(threads.get_executor()),
                          options);

    constexpr int total = 1000;
    std::atomic<int> ok{0}, done{0};
    std::promise<void> all;
    for (int i = 0; i < total; ++i)
        wire.async_send(get(server.url()), [&](result<http::response> r) {
            if (r && r.value().body == "pong")
                ++ok;
            if (++done == total)
                all.set_value();
        });
    REQUIRE(all.get_future().wait_for(60s) == std::future_status::ready);
    threads.join();
    CHECK(ok == total);
    CHECK(server.connections_accepted() <= 8);
}
